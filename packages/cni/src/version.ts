/**
 * Spec versions and the VERSION answer, in a module with no imports: the binaries answer
 * VERSION (and reach the agent) without loading anything heavy.
 */

/** Spec versions this plugin speaks (SPEC.md "Version"). */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

/** Default socket of the node agent's CNI API. */
export const DEFAULT_AGENT_SOCKET = '/var/run/tabby/cni.sock';

/** `{"cniVersion", "supportedVersions"}` (SPEC.md "VERSION"). */
export function versionJson(stdin: string): string {
  let v = '1.1.0';
  try {
    const d = JSON.parse(stdin) as { cniVersion?: unknown };
    if (typeof d.cniVersion === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(d.cniVersion)) v = d.cniVersion;
  } catch {
    /* VERSION may come with an empty config */
  }
  return JSON.stringify({ cniVersion: v, supportedVersions: SUPPORTED_VERSIONS });
}
