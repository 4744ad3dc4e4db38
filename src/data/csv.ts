/**
 * Streaming RFC 4180 CSV parser.
 *
 * Data set files hold a whole CIF (many lines, with quotes inside) in one quoted field, so a
 * line-based reader cannot work. This parser is a small state machine fed with text chunks of
 * any size (a chunk may end anywhere, even between the two quotes of an escaped `""`); it emits
 * complete records as they finish. Rules (RFC 4180, plus what real files do):
 *   - fields are separated by `,`; records end at CRLF, LF or a lone CR;
 *   - a field that starts with `"` is quoted: it runs to the next lone `"`, may contain commas
 *     and line breaks, and `""` inside it stands for one `"`;
 *   - a quote inside an unquoted field, or text after a closing quote, is an error
 *     (DatasetError naming the file and line), never silently "repaired";
 *   - blank lines are skipped; a UTF-8 byte-order mark at the start is dropped.
 * Speed: quoted fields are scanned with `indexOf`, not character by character.
 */
import { DatasetError } from "../crystal/errors.ts";

type State = "fieldStart" | "unquoted" | "quoted" | "quoteInQuoted" | "afterCR";

export class CsvParser {
  private state: State = "fieldStart";
  private field = "";
  private record: string[] = [];
  private out: string[][] = [];
  private started = false;
  /** 1-based physical line of the parse position, for error messages. */
  private line = 1;

  /** @param source names the file in error messages. */
  constructor(private readonly source = "CSV") {}

  /** Feeds a chunk; returns the records completed by it. */
  push(chunk: string): string[][] {
    let text = chunk;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let i = 0;
    while (i < text.length) i = this.step(text, i);
    return this.drain();
  }

  /** Ends the input: returns the last record; throws if a quoted field was never closed. */
  end(): string[][] {
    if (this.state === "quoted") throw this.error("the file ends inside a quoted field (a closing \" is missing)");
    if (this.state !== "afterCR" && (this.record.length > 0 || this.field !== "" || this.state !== "fieldStart"))
      this.endRecord();
    return this.drain();
  }

  /** Processes text from index `i` in the current state; returns the next index. */
  private step(text: string, i: number): number {
    switch (this.state) {
      case "quoted":
        return this.scanQuoted(text, i);
      case "quoteInQuoted":
        return this.afterQuote(text, i);
      case "afterCR":
        this.state = "fieldStart";
        return text[i] === "\n" ? i + 1 : i;
      default:
        return this.scanUnquoted(text, i);
    }
  }

  /** Inside quotes: copy up to the next `"` in one slice, counting line breaks on the way. */
  private scanQuoted(text: string, i: number): number {
    const q = text.indexOf('"', i);
    const end = q < 0 ? text.length : q;
    this.field += text.slice(i, end);
    for (let k = text.indexOf("\n", i); k >= 0 && k < end; k = text.indexOf("\n", k + 1)) this.line++;
    if (q < 0) return text.length;
    this.state = "quoteInQuoted";
    return q + 1;
  }

  /** After a `"` inside a quoted field: `""` is a literal quote, else the field has ended. */
  private afterQuote(text: string, i: number): number {
    const c = text[i];
    if (c === '"') {
      this.field += '"';
      this.state = "quoted";
      return i + 1;
    }
    if (c === "," || c === "\n" || c === "\r") {
      this.state = "unquoted";
      return i; // the delimiter is handled by scanUnquoted
    }
    throw this.error(`unexpected ${JSON.stringify(c)} after the closing quote of a field (quotes inside a field must be doubled)`);
  }

  /** Outside quotes: read up to the next delimiter. */
  private scanUnquoted(text: string, i: number): number {
    if (this.state === "fieldStart" && text[i] === '"') {
      this.state = "quoted";
      return i + 1;
    }
    let k = i;
    while (k < text.length) {
      const c = text[k];
      if (c === "," || c === "\n" || c === "\r") break;
      if (c === '"') throw this.error('a quote inside an unquoted field (quote the whole field and double the inner quote: "a ""b"" c")');
      k++;
    }
    this.field += text.slice(i, k);
    this.state = "unquoted";
    if (k === text.length) return k;
    return this.delimiter(text[k], k);
  }

  private delimiter(c: string, k: number): number {
    if (c === ",") {
      this.record.push(this.field);
      this.field = "";
      this.state = "fieldStart";
      return k + 1;
    }
    this.line++;
    this.endRecord();
    this.state = c === "\r" ? "afterCR" : "fieldStart";
    return k + 1;
  }

  private endRecord(): void {
    this.record.push(this.field);
    this.field = "";
    // A blank line is one empty field: skip it rather than emit a bogus record.
    if (!(this.record.length === 1 && this.record[0] === "")) this.out.push(this.record);
    this.record = [];
  }

  private drain(): string[][] {
    const done = this.out;
    this.out = [];
    return done;
  }

  private error(why: string): DatasetError {
    return new DatasetError(`${this.source}: line ${this.line}: malformed CSV: ${why}.`);
  }
}

/** Parses a whole CSV text at once (convenience for small inputs and tests). */
export function parseCsv(text: string, source?: string): string[][] {
  const p = new CsvParser(source);
  return [...p.push(text), ...p.end()];
}
