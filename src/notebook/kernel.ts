/**
 * Access to the running tslab kernel. tslab's public `display` sends one MIME type per output;
 * a plotly figure needs a bundle (text/html + image/png + text/plain in ONE display_data, so
 * each frontend picks what it can show). tslab keeps the kernel's display writer in
 * `tslab/dist/jupyter.js` (`lastWriteDisplayData`); this module is the only place that uses
 * that internal, and falls back to the bundle's richest MIME type through the public API if it changes.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** A Jupyter MIME bundle: MIME type → string (text) or bytes (sent base64-encoded). */
export type MimeBundle = Record<string, string | Uint8Array>;

interface DisplayData {
  data: Record<string, string>;
  metadata: Record<string, unknown>;
  transient: Record<string, unknown>;
}
type WriteDisplayData = (data: DisplayData, update: boolean) => void;

function tslabJupyter(): { lastWriteDisplayData: WriteDisplayData | null } | undefined {
  try {
    return require("tslab/dist/jupyter.js");
  } catch {
    return undefined;
  }
}

function tslabPublic(): { display: { raw(type: string, b: string | Uint8Array): void } } | undefined {
  try {
    return require("tslab");
  } catch {
    return undefined;
  }
}

/** True inside a tslab kernel that is executing a cell (displays reach a notebook). */
export function inTslabKernel(): boolean {
  return typeof tslabJupyter()?.lastWriteDisplayData === "function";
}

/** Base64 for binary entries, as the Jupyter protocol wants. */
function encodeBundle(bundle: MimeBundle): Record<string, string> {
  return Object.fromEntries(
    Object.entries(bundle).map(([k, v]) => [k, typeof v === "string" ? v : Buffer.from(v).toString("base64")]),
  );
}

/**
 * Shows a MIME bundle as one notebook output. Outside a kernel (scripts, tests) prints the
 * bundle's text/plain entry, so code that displays can also run headless.
 */
export function displayBundle(bundle: MimeBundle): void {
  const write = tslabJupyter()?.lastWriteDisplayData;
  if (typeof write === "function") {
    write({ data: encodeBundle(bundle), metadata: {}, transient: {} }, false);
    return;
  }
  if (!displayEachType(bundle)) {
    const text = bundle["text/plain"];
    if (typeof text === "string") console.log(text);
  }
}

/**
 * Fallback for a tslab whose internals moved: the bundle's first rich MIME type (text/html
 * comes first in our bundles) through the public API, which throws "Not ready" outside a
 * kernel (then nothing was shown: returns false).
 */
function displayEachType(bundle: MimeBundle): boolean {
  const pub = tslabPublic();
  if (!pub) return false;
  const rich = Object.entries(bundle).filter(([type]) => type !== "text/plain");
  try {
    const [type, value] = rich[0] ?? Object.entries(bundle)[0];
    if (type !== undefined) pub.display.raw(type, value);
    return true;
  } catch {
    return false;
  }
}
