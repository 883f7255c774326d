/**
 * The doc comments of the kinds' spec interfaces (packages/api/src/kinds/*.ts), keyed by the
 * field's path as crd-schema.ts names it (`spec.bgp.asNumber`, `spec.ingress[].action`), for the
 * CRDs' descriptions (`kubectl explain`). A field without its own comment takes its type's
 * (`source?: EntityRule` → "Source or destination of a rule."). Reads the sources with the
 * TypeScript parser; shared by the CRD writer and the test that keeps the CRD files current.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const KINDS_DIR = fileURLToPath(new URL('../../api/src/kinds/', import.meta.url));

interface Iface {
  doc?: string;
  bases: string[];
  members: ts.PropertySignature[];
}

function docOf(node: ts.Node): string | undefined {
  const texts = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc).map((d) => ts.getTextOfJSDocComment(d.comment)).filter((t): t is string => !!t);
  return texts.length ? texts.join(' ').replace(/\s+/g, ' ').trim() : undefined;
}

function interfaces(): Map<string, Iface> {
  const out = new Map<string, Iface>();
  for (const f of readdirSync(KINDS_DIR).filter((x) => x.endsWith('.ts'))) {
    const sf = ts.createSourceFile(f, readFileSync(`${KINDS_DIR}${f}`, 'utf8'), ts.ScriptTarget.ES2022, true);
    for (const st of sf.statements) {
      if (!ts.isInterfaceDeclaration(st)) continue;
      const bases = (st.heritageClauses ?? []).flatMap((h) => h.types.map((t) => t.expression.getText(sf)));
      out.set(st.name.text, { doc: docOf(st), bases, members: st.members.filter(ts.isPropertySignature) });
    }
  }
  return out;
}

/** The interface a property's type refers to, through arrays, `| undefined` and Record values. */
function target(type: ts.TypeNode | undefined, suffix = ''): { name?: string; literal?: ts.TypeLiteralNode; suffix: string } {
  if (!type) return { suffix };
  if (ts.isArrayTypeNode(type)) return target(type.elementType, `${suffix}[]`);
  if (ts.isUnionTypeNode(type)) {
    const rest = type.types.filter((t) => t.kind !== ts.SyntaxKind.UndefinedKeyword);
    return rest.length === 1 ? target(rest[0], suffix) : { suffix };
  }
  if (ts.isTypeLiteralNode(type)) return { literal: type, suffix };
  if (ts.isTypeReferenceNode(type)) {
    const name = type.typeName.getText();
    const args = type.typeArguments ?? [];
    if (name === 'Array' && args[0]) return target(args[0], `${suffix}[]`);
    if (name === 'Record' && args[1]) return target(args[1], `${suffix}{}`);
    return { name, suffix };
  }
  return { suffix };
}

/** Descriptions by path for the spec of `kind`. */
export function kindDocs(kind: string, all = interfaces()): Map<string, string> {
  const docs = new Map<string, string>();
  const walk = (members: readonly ts.PropertySignature[], path: string, seen: Set<string>): void => {
    for (const m of members) {
      const p = `${path}.${m.name.getText()}`;
      const t = target(m.type);
      const ref = t.name ? all.get(t.name) : undefined;
      const own = docOf(m);
      if (own) docs.set(p, own);
      // A type's comment describes one value: an array's (or map's) element, else the field.
      if (ref?.doc && !(own && !t.suffix)) docs.set(`${p}${t.suffix}`, ref.doc);
      if (ref && t.name && !seen.has(t.name)) walk(membersOf(t.name, all), `${p}${t.suffix}`, new Set([...seen, t.name]));
      else if (t.literal) walk(t.literal.members.filter(ts.isPropertySignature), `${p}${t.suffix}`, seen);
    }
  };
  walk(membersOf(`${kind}Spec`, all), 'spec', new Set([`${kind}Spec`]));
  return docs;
}

function membersOf(name: string, all: Map<string, Iface>): ts.PropertySignature[] {
  const i = all.get(name);
  if (!i) return [];
  return [...i.bases.flatMap((b) => membersOf(b, all)), ...i.members];
}
