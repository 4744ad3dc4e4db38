/**
 * Syntax of OmegaConf interpolations inside YAML strings: `${paths.output_dir}`,
 * `${oc.env:HOME,/tmp}`, `${..batch_size}`, nested `${oc.env:X,${paths.root_dir}}`, and the
 * escape `\${` for a literal `${`. This module only parses; interpolate.ts evaluates.
 */
import { ConfigError } from "./errors.ts";

/** Literal text, or one `${...}` whose body is again a list of parts (for nesting). */
export type InterpPart = { kind: "text"; text: string } | { kind: "interp"; body: InterpPart[] };

/** True if `s` contains an unescaped `${`. */
export function hasInterpolation(s: string): boolean {
  return /(^|[^\\])\$\{/.test(s);
}

/**
 * Parse `s` into parts. Unbalanced braces throw a ConfigError naming `key` (the config path
 * of the string) so the user can find the broken value.
 */
export function parseInterpolation(s: string, key: string): InterpPart[] {
  const [parts, end] = parseParts(s, 0, false, key);
  if (end !== s.length) throw new ConfigError(`unexpected "}" at position ${end} in "${s}".`, key);
  return parts;
}

function parseParts(s: string, start: number, inside: boolean, key: string): [InterpPart[], number] {
  const parts: InterpPart[] = [];
  let text = "";
  let i = start;
  const flush = () => {
    if (text !== "") parts.push({ kind: "text", text });
    text = "";
  };
  while (i < s.length) {
    if (s.startsWith("\\${", i)) {
      text += "${";
      i += 3;
    } else if (s.startsWith("${", i)) {
      flush();
      const [body, end] = parseParts(s, i + 2, true, key);
      if (s[end] !== "}") throw new ConfigError(`unclosed "\${" in "${s}"; add the missing "}".`, key);
      parts.push({ kind: "interp", body });
      i = end + 1;
    } else if (inside && s[i] === "}") {
      break;
    } else {
      text += s[i];
      i += 1;
    }
  }
  flush();
  return [parts, i];
}

/** The body as written (used in error messages). */
export function formatParts(parts: InterpPart[]): string {
  return parts.map((p) => (p.kind === "text" ? p.text : `\${${formatParts(p.body)}}`)).join("");
}

/**
 * If the body is a resolver call `name:args`, its name and the argument part lists
 * (split at top-level commas outside quotes); otherwise null (a key reference).
 */
export function splitResolverCall(body: InterpPart[]): { name: string; args: InterpPart[][] } | null {
  const first = body[0];
  if (!first || first.kind !== "text") return null;
  const m = /^\s*([A-Za-z_][\w.]*)\s*:/.exec(first.text);
  if (!m) return null;
  const rest: InterpPart[] = [{ kind: "text", text: first.text.slice(m[0].length) }, ...body.slice(1)];
  return { name: m[1], args: splitArgs(rest) };
}

function splitArgs(parts: InterpPart[]): InterpPart[][] {
  const args: InterpPart[][] = [[]];
  let quote: string | null = null;
  for (const p of parts) {
    if (p.kind === "interp") {
      args[args.length - 1].push(p);
      continue;
    }
    let text = "";
    for (const c of p.text) {
      if (quote) {
        if (c === quote) quote = null;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === ",") {
        if (text) args[args.length - 1].push({ kind: "text", text });
        text = "";
        args.push([]);
        continue;
      }
      text += c;
    }
    if (text) args[args.length - 1].push({ kind: "text", text });
  }
  // `${now:}` has one empty argument; a resolver with no colon content gets none.
  return args.length === 1 && args[0].length === 0 ? [] : args;
}

/**
 * A resolver argument written without interpolation: `null`, `true`/`false`, numbers and
 * quoted strings are typed (as OmegaConf does); anything else is the trimmed text.
 */
export function parseArgScalar(raw: string): string | number | boolean | null {
  const t = raw.trim();
  if (t === "null" || t === "None") return null;
  if (/^(true|false)$/i.test(t)) return t.toLowerCase() === "true";
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  const q = /^(['"])(.*)\1$/s.exec(t);
  if (q) return q[2];
  return t;
}
