// The force simulation, off the main thread: it ticks as fast as it can, and sends the latest
// positions whenever the page has drawn the previous ones. On two cores, the layout and the
// drawing then proceed side by side instead of taking turns in each animation frame.

import { createSimulation, type LayoutLink, type LayoutNode } from './simulation.ts';
import type { LayoutFrame, StartLayout, ToLayout } from './layoutProtocol.ts';

type Run = {
  id: number;
  nodes: LayoutNode[];
  ticks: number;
  tick(): boolean;
  /** The page drew the last frame sent. */
  drawn: boolean;
};

let current: Run | null = null;
// A message to ourselves yields to incoming messages without setTimeout's 4 ms clamp.
const loop = new MessageChannel();
loop.port1.onmessage = step;

self.onmessage = (event: MessageEvent<ToLayout>) => {
  const message = event.data;
  switch (message.type) {
    case 'start':
      current = start(message);
      if (message.upFront) {
        while (!current.tick());
        send(current, true);
        current = null;
      } else {
        loop.port2.postMessage(null);
      }
      break;
    case 'drawn':
      if (current?.id === message.run) current.drawn = true;
      break;
    case 'stop':
      current = null;
      break;
  }
};

function start(message: StartLayout): Run {
  const nodes: LayoutNode[] = Array.from(message.radii, (radius, i) => {
    const [x, y] = [message.positions[2 * i] ?? NaN, message.positions[2 * i + 1] ?? NaN];
    return Number.isNaN(x) || Number.isNaN(y) ? { radius } : { radius, x, y };
  });
  const links: LayoutLink<LayoutNode>[] = [];
  for (let i = 0; i < message.weights.length; i += 1) {
    const source = nodes[message.links[2 * i] ?? -1];
    const target = nodes[message.links[2 * i + 1] ?? -1];
    if (source && target) links.push({ source, target, weight: message.weights[i] ?? 0 });
  }
  const simulation = createSimulation(nodes, links, message.known);
  return {
    id: message.run,
    nodes,
    ticks: 0,
    drawn: true,
    tick() {
      simulation.tick();
      this.ticks += 1;
      return simulation.alpha() < simulation.alphaMin();
    },
  };
}

function step() {
  const run = current;
  if (!run) return;
  const done = run.tick();
  if (run.drawn || done) {
    send(run, done);
    run.drawn = false;
  }
  if (done) current = null;
  else loop.port2.postMessage(null);
}

function send(run: Run, done: boolean) {
  const positions = new Float32Array(run.nodes.length * 2);
  run.nodes.forEach((n, i) => {
    positions[2 * i] = n.x ?? 0;
    positions[2 * i + 1] = n.y ?? 0;
  });
  const frame: LayoutFrame = { type: 'frame', run: run.id, positions, ticks: run.ticks, done };
  self.postMessage(frame, { transfer: [positions.buffer] });
}
