/**
 * CIF 1.1 syntax: a hand-written tokenizer and the data-block / loop structure, with no
 * knowledge of crystallography (that lives in cif.ts).
 *
 * Grammar handled: `data_NAME` blocks, `_tag value` pairs, `loop_` tables, values that are
 * bare words, 'single'- or "double"-quoted strings (a quote only closes when followed by
 * whitespace, so 'O'Brien' is one value), `;`-delimited multi-line text fields, `#` comments,
 * `save_` frames (skipped) and the reserved words `global_`/`stop_`.
 * Tags are case-insensitive: they are stored lower-cased, with mmCIF/CIF2 dots
 * (`_atom_site.fract_x`) mapped to underscores so both spellings reach the same item.
 */
import { CifParseError } from "../errors.ts";

const enum Tok {
  Tag,
  Value,
  Loop,
  Data,
  Save,
  Global,
  Stop,
}

/** One tag's values: a single value, or a loop column. `lines` gives each value's line (1-based). */
export interface CifItem {
  readonly values: string[];
  readonly lines: number[];
  /** Index of the loop this tag belongs to within its block, or -1 for a single value. */
  readonly loop: number;
}

/** One `data_` block: its name, the line it starts on and its items keyed by normalised tag. */
export interface CifBlock {
  readonly name: string;
  readonly line: number;
  readonly items: Map<string, CifItem>;
}

interface TokenStream {
  kinds: Tok[];
  texts: string[];
  lines: number[];
}

const WS = new Uint8Array(128);
for (const c of [32, 9, 10, 13, 11, 12]) WS[c] = 1;

function isWs(code: number): boolean {
  return code < 128 && WS[code] === 1;
}

/** Splits CIF text into tokens. Quoted values and text fields are always Tok.Value. */
function tokenize(text: string, source: string | undefined): TokenStream {
  const out: TokenStream = { kinds: [], texts: [], lines: [] };
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      i++;
    } else if (isWs(c)) i++;
    else if (c === 35 /* # */) {
      while (i < n && text.charCodeAt(i) !== 10) i++;
    } else if (c === 59 /* ; */ && (i === 0 || text.charCodeAt(i - 1) === 10)) {
      const start = line;
      const end = text.indexOf("\n;", i);
      if (end < 0) throw new CifParseError("text field opened with ';' is never closed (a line starting with ';' must end it)", source, start);
      pushToken(out, Tok.Value, text.slice(i + 1, end).replace(/\r\n/g, "\n").replace(/\r$/, ""), start);
      for (let k = i; k < end + 1; k++) if (text.charCodeAt(k) === 10) line++;
      i = end + 2;
    } else if (c === 39 || c === 34 /* ' " */) i = readQuoted(text, i, c, line, out, source);
    else i = readBare(text, i, line, out);
  }
  return out;
}

function pushToken(out: TokenStream, kind: Tok, text: string, line: number): void {
  out.kinds.push(kind);
  out.texts.push(text);
  out.lines.push(line);
}

/** A quoted value: the closing quote is the first matching quote followed by whitespace or end of text. */
function readQuoted(text: string, start: number, quote: number, line: number, out: TokenStream, source: string | undefined): number {
  let j = start + 1;
  const n = text.length;
  for (; j < n; j++) {
    const d = text.charCodeAt(j);
    if (d === 10) break;
    if (d === quote && (j + 1 === n || isWs(text.charCodeAt(j + 1)))) {
      pushToken(out, Tok.Value, text.slice(start + 1, j), line);
      return j + 1;
    }
  }
  throw new CifParseError(
    `quoted value starting ${text.slice(start, Math.min(j, start + 30))} is not closed on its line (add the closing ${String.fromCharCode(quote)})`,
    source,
    line,
  );
}

/** A bare word: tag, reserved word or unquoted value. */
function readBare(text: string, start: number, line: number, out: TokenStream): number {
  let j = start;
  const n = text.length;
  while (j < n && !isWs(text.charCodeAt(j))) j++;
  const word = text.slice(start, j);
  if (word.charCodeAt(0) === 95 /* _ */) pushToken(out, Tok.Tag, word, line);
  else pushToken(out, reservedKind(word), word, line);
  return j;
}

function reservedKind(word: string): Tok {
  if (word.length < 5 || word.charCodeAt(4) !== 95 && word.charCodeAt(5) !== 95 && word.charCodeAt(6) !== 95) return Tok.Value;
  const head = word.slice(0, 7).toLowerCase();
  if (head.startsWith("data_")) return Tok.Data;
  if (head.startsWith("loop_") && word.length === 5) return Tok.Loop;
  if (head.startsWith("save_")) return Tok.Save;
  if (head === "global_") return Tok.Global;
  if (head.startsWith("stop_") && word.length === 5) return Tok.Stop;
  return Tok.Value;
}

/** `_Atom_Site.Fract_X` → `_atom_site_fract_x`. */
export function normalizeTag(tag: string): string {
  const t = tag.toLowerCase();
  return t.indexOf(".") < 0 ? t : t.replace(/\./g, "_");
}

/**
 * Parses CIF text into its data blocks (in file order).
 * @throws CifParseError for empty input, no `data_` block, a tag without value, a value without
 *   tag, a loop whose value count is not a multiple of its column count, a duplicated tag,
 *   an unclosed quote or text field. Each error names `source` and the line.
 */
export function parseCifBlocks(text: string, options: { source?: string } = {}): CifBlock[] {
  const { source } = options;
  if (typeof text !== "string" || text.trim().length === 0)
    throw new CifParseError("the CIF text is empty: pass the contents of a .cif file (a string starting with data_...)", source);
  const toks = tokenize(text, source);
  const blocks: CifBlock[] = [];
  let i = 0;
  while (i < toks.kinds.length) {
    const kind = toks.kinds[i];
    if (kind === Tok.Data) {
      const block: CifBlock = { name: toks.texts[i].slice(5), line: toks.lines[i], items: new Map() };
      blocks.push(block);
      i = readBlockBody(toks, i + 1, block, source);
    } else if (kind === Tok.Global || kind === Tok.Save) i = skipFrame(toks, i, source);
    else throw new CifParseError(`'${toks.texts[i]}' appears before the first data_ block: every tag and loop must follow a data_NAME line`, source, toks.lines[i]);
  }
  if (blocks.length === 0) throw new CifParseError("no data block found: a CIF must contain a line data_NAME before its tags", source);
  return blocks;
}

/** Reads tags and loops until the next data_ block; returns the index of that token. */
function readBlockBody(toks: TokenStream, start: number, block: CifBlock, source: string | undefined): number {
  let i = start;
  let loopCount = 0;
  while (i < toks.kinds.length) {
    const kind = toks.kinds[i];
    if (kind === Tok.Data) return i;
    if (kind === Tok.Tag) {
      const next = toks.kinds[i + 1];
      if (i + 1 >= toks.kinds.length || next !== Tok.Value)
        throw new CifParseError(`tag ${toks.texts[i]} has no value (give one, or '?' for unknown)`, source, toks.lines[i]);
      setItem(block, toks.texts[i], { values: [toks.texts[i + 1]], lines: [toks.lines[i + 1]], loop: -1 }, source, toks.lines[i]);
      i += 2;
    } else if (kind === Tok.Loop) i = readLoop(toks, i, block, loopCount++, source);
    else if (kind === Tok.Save) i = skipFrame(toks, i, source);
    else if (kind === Tok.Global || kind === Tok.Stop) i++;
    else throw new CifParseError(`value '${toks.texts[i].slice(0, 40)}' has no tag (a loop may have more values than its columns, or a tag is missing)`, source, toks.lines[i]);
  }
  return i;
}

/** Reads `loop_ _t1 _t2 ... v1 v2 ...`: values fill the columns row by row. */
function readLoop(toks: TokenStream, loopIndex: number, block: CifBlock, loopId: number, source: string | undefined): number {
  const loopLine = toks.lines[loopIndex];
  let i = loopIndex + 1;
  const tags: string[] = [];
  while (i < toks.kinds.length && toks.kinds[i] === Tok.Tag) tags.push(toks.texts[i++]);
  if (tags.length === 0) throw new CifParseError("loop_ has no tags: list the column tags (_name) right after loop_", source, loopLine);
  const start = i;
  while (i < toks.kinds.length && toks.kinds[i] === Tok.Value) i++;
  const count = i - start;
  const ncol = tags.length;
  if (count % ncol !== 0)
    throw new CifParseError(
      `truncated loop: ${count} values for ${ncol} columns (${tags.join(", ")}); the value count must be a multiple of the column count ` +
        `(last row has ${count % ncol} of ${ncol} values, ending at line ${toks.lines[i - 1]})`,
      source,
      loopLine,
    );
  tags.forEach((tag, col) => {
    const values: string[] = [];
    const lines: number[] = [];
    for (let k = start + col; k < i; k += ncol) {
      values.push(toks.texts[k]);
      lines.push(toks.lines[k]);
    }
    setItem(block, tag, { values, lines, loop: loopId }, source, loopLine);
  });
  return i;
}

function setItem(block: CifBlock, tag: string, item: CifItem, source: string | undefined, line: number): void {
  const key = normalizeTag(tag);
  if (block.items.has(key)) throw new CifParseError(`tag ${tag} appears twice in data block '${block.name}': keep only one`, source, line);
  block.items.set(key, item);
}

/** Skips a `save_NAME ... save_` frame (or a `global_` header) without interpreting it. */
function skipFrame(toks: TokenStream, start: number, source: string | undefined): number {
  if (toks.kinds[start] === Tok.Global) return start + 1;
  let i = start + 1;
  while (i < toks.kinds.length && !(toks.kinds[i] === Tok.Save && toks.texts[i].length === 5)) {
    if (toks.kinds[i] === Tok.Data) throw new CifParseError(`save frame ${toks.texts[start]} is not closed with save_`, source, toks.lines[start]);
    i++;
  }
  if (i >= toks.kinds.length) throw new CifParseError(`save frame ${toks.texts[start]} is not closed with save_`, source, toks.lines[start]);
  return i + 1;
}
