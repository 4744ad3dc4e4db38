/**
 * plotly.js for offline use, from the `plotly.js-dist` package (no CDN). The 10.8 MB bundle is
 * minified once with esbuild (tsx's own dependency, so nothing extra is installed) and cached
 * under node_modules/.cache; notebooks embed it gzip + base64 (≈1.9 MB instead of 10.8 MB) in
 * a loader that inflates it in the browser with DecompressionStream.
 */
import { createRequire } from "node:module";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { gzipSync } from "node:zlib";

const require = createRequire(import.meta.url);

let cachedSource: string | undefined;
let cachedLoader: string | undefined;

/** Version of the installed plotly.js-dist (part of the cache key). */
export function plotlyVersion(): string {
  return (require("plotly.js-dist/package.json") as { version: string }).version;
}

function cacheDir(): string {
  const pkgRoot = dirname(dirname(require.resolve("plotly.js-dist/package.json")));
  const dir = join(pkgRoot, ".cache", "crystal-grpo");
  try {
    mkdirSync(dir, { recursive: true });
    return dir;
  } catch {
    return tmpdir(); // read-only node_modules: fall back to the temp dir
  }
}

/** Minifies with esbuild when it loads; otherwise returns the unminified bundle (still works, just larger). */
function minify(code: string): string {
  try {
    const esbuild = createRequire(require.resolve("tsx"))("esbuild") as {
      transformSync(c: string, o: Record<string, unknown>): { code: string };
    };
    return esbuild.transformSync(code, { minify: true, legalComments: "none" }).code;
  } catch {
    return code;
  }
}

/** Minified plotly.js source (cached in memory and on disk, written atomically). */
export function plotlySource(): string {
  if (cachedSource) return cachedSource;
  const file = join(cacheDir(), `plotly-${plotlyVersion()}.min.js`);
  if (existsSync(file)) return (cachedSource = readFileSync(file, "utf8"));
  const code = minify(readFileSync(require.resolve("plotly.js-dist"), "utf8"));
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
  } catch {
    // A cache we cannot write only costs a re-minify next session.
  }
  return (cachedSource = code);
}

/**
 * HTML that loads plotly.js once per page: inflates the embedded gzip and runs it with AMD's
 * `define` hidden (classic Notebook ships require.js, and plotly's UMD header would otherwise
 * register a module instead of setting window.Plotly). Sets `window.__cgPlotlyReady`, a promise
 * every figure script waits on.
 */
export function plotlyLoaderHtml(): string {
  if (cachedLoader) return cachedLoader;
  const b64 = gzipSync(plotlySource(), { level: 9 }).toString("base64");
  cachedLoader =
    `<script>(function(){if(window.Plotly||window.__cgPlotlyReady)return;var s=atob("${b64}"),u=new Uint8Array(s.length);` +
    `for(var i=0;i<s.length;i++)u[i]=s.charCodeAt(i);` +
    `window.__cgPlotlyReady=new Response(new Blob([u]).stream().pipeThrough(new DecompressionStream("gzip"))).text().then(function(code){` +
    `var d=window.define;window.define=undefined;try{var e=document.createElement("script");e.text=code;document.head.appendChild(e)}` +
    `finally{window.define=d}return window.Plotly});})();</script>`;
  return cachedLoader;
}
