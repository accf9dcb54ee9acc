// The messages between the graph component and the layout worker. Positions travel as one
// transferred Float32Array (x0, y0, x1, y1, ...), in the order of the nodes sent.

export interface StartLayout {
  type: 'start';
  /** Frames of an earlier run are ignored by this id. */
  run: number;
  radii: Float32Array;
  /** Known positions (x, y per node; NaN where unknown). */
  positions: Float32Array;
  /** Node indices, two per link. */
  links: Uint32Array;
  weights: Float32Array;
  /** How many nodes already had a position. */
  known: number;
  /** Compute the layout to the end before sending anything (reduced motion). */
  upFront: boolean;
}

/** The component drew the last frame: the worker may send the next. */
export interface FrameDrawn {
  type: 'drawn';
  run: number;
}

export interface StopLayout {
  type: 'stop';
}

export type ToLayout = StartLayout | FrameDrawn | StopLayout;

export interface LayoutFrame {
  type: 'frame';
  run: number;
  positions: Float32Array;
  /** Simulation ticks so far in this run. */
  ticks: number;
  /** The simulation has cooled down: no frame follows. */
  done: boolean;
}
