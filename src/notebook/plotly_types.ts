/**
 * Minimal plotly figure typing: the figure is plain JSON handed to Plotly.newPlot /
 * Plotly.toImage, so traces and layout stay open records and only the fields this package
 * builds on are named. See https://plotly.com/javascript/reference/.
 */

/** One plotly trace (`{ type: "bar", x, y, ... }`). */
export interface Trace {
  type?: string;
  name?: string;
  [key: string]: unknown;
}

/** Plotly layout (`title`, axes, `width`/`height` in px, ...). */
export interface Layout {
  title?: string | { text: string; [key: string]: unknown };
  width?: number;
  height?: number;
  [key: string]: unknown;
}

/** A plotly figure, as accepted by Plotly.newPlot(div, figure). */
export interface Figure {
  data: Trace[];
  layout?: Layout;
  config?: Record<string, unknown>;
}

/** Default static size (px) when neither the call nor the layout sets one. */
export const DEFAULT_FIGURE_SIZE = { width: 800, height: 500 } as const;

/** Static size of a figure: explicit option, else layout size, else the default. */
export function figureSize(fig: Figure, opts: { width?: number; height?: number } = {}): { width: number; height: number } {
  return {
    width: opts.width ?? fig.layout?.width ?? DEFAULT_FIGURE_SIZE.width,
    height: opts.height ?? fig.layout?.height ?? DEFAULT_FIGURE_SIZE.height,
  };
}
