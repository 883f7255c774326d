/**
 * Process-exit cleanup: whatever a test creates registers an undo here, so namespaces and
 * processes are removed even when a test throws, vitest times out or the worker is killed
 * by SIGINT/SIGTERM. Undos run last-registered first and must be synchronous.
 */
type Undo = () => void;
const undos = new Set<Undo>();
let installed = false;

function runAll(): void {
  for (const u of [...undos].reverse()) {
    undos.delete(u);
    try {
      u();
    } catch {
      /* best effort on exit */
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      runAll();
      process.kill(process.pid, sig);
    });
  }
}

/** Registers a synchronous undo to run at process exit; returns a function that unregisters it. */
export function onExit(undo: Undo): () => void {
  install();
  undos.add(undo);
  return () => {
    undos.delete(undo);
  };
}
