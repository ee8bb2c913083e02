/**
 * The scene model of the CSS-style benchmark (Vo et al., "Composing Text and Image for Image
 * Retrieval", CVPR 2019): simple 2D objects on a 3×3 grid, each with a shape, a colour and a
 * size, and the three kinds of modification text (add, remove, change an attribute) that turn
 * one scene into another. Pure data and functions; rendering and file layout live elsewhere.
 */

export const SHAPES = ['circle', 'square', 'triangle'] as const;
/** CLEVR's eight colours, as CSS uses them, with CLEVR's RGB values. */
export const COLOURS = {
  gray: '#575757',
  red: '#ad2323',
  blue: '#2a4bd7',
  green: '#1d6914',
  brown: '#814a19',
  purple: '#8126c0',
  cyan: '#29d0d0',
  yellow: '#ffee33',
} as const;
export const SIZES = ['small', 'large'] as const;
/** Grid cells in reading order; the names are what modification texts say. */
export const POSITIONS = ['top-left', 'top', 'top-right', 'left', 'centre', 'right', 'bottom-left', 'bottom', 'bottom-right'] as const;

export type Shape = (typeof SHAPES)[number];
export type Colour = keyof typeof COLOURS;
export type Size = (typeof SIZES)[number];
export const COLOUR_NAMES = Object.keys(COLOURS) as Colour[];

export interface SceneObject {
  shape: Shape;
  colour: Colour;
  size: Size;
}

/** One entry per grid cell (POSITIONS order); null where the cell is empty. */
export type Scene = ReadonlyArray<SceneObject | null>;

export type ModificationKind = 'add' | 'remove' | 'colour' | 'size' | 'shape';

export interface Modification {
  kind: ModificationKind;
  text: string;
  target: Scene;
}

export const MIN_OBJECTS = 1;
export const MAX_OBJECTS = 5;

/** A canonical string for a scene: equal scenes, equal keys (used for de-duplication and splits). */
export function sceneKey(scene: Scene): string {
  return scene.map((o) => (o ? `${SHAPES.indexOf(o.shape)}${COLOUR_NAMES.indexOf(o.colour)}${SIZES.indexOf(o.size)}` : '---')).join('');
}

export function objectCount(scene: Scene): number {
  return scene.reduce((n, o) => n + (o ? 1 : 0), 0);
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

export function randomObject(random: () => number): SceneObject {
  return { shape: pick(random, SHAPES), colour: pick(random, COLOUR_NAMES), size: pick(random, SIZES) };
}

export function randomScene(random: () => number, objects: number): Scene {
  const cells: Array<SceneObject | null> = Array(POSITIONS.length).fill(null);
  const free = POSITIONS.map((_, i) => i);
  for (let n = 0; n < objects; n++) {
    const [cell] = free.splice(Math.floor(random() * free.length), 1);
    cells[cell!] = randomObject(random);
  }
  return cells;
}

/**
 * The shortest description that picks out the object in `cell` among the scene's objects:
 * colour and shape, then with its size, then with its position. Every text therefore names
 * exactly one object, so every query has exactly one correct target scene.
 */
export function referTo(scene: Scene, cell: number): string {
  const o = scene[cell]!;
  const others = scene.filter((x, i): x is SceneObject => x !== null && i !== cell);
  if (!others.some((x) => x.colour === o.colour && x.shape === o.shape)) return `${o.colour} ${o.shape}`;
  const full = `${o.size} ${o.colour} ${o.shape}`;
  if (!others.some((x) => x.colour === o.colour && x.shape === o.shape && x.size === o.size)) return full;
  return `${full} at the ${POSITIONS[cell]}`;
}

function withCell(scene: Scene, cell: number, value: SceneObject | null): Scene {
  const next = scene.slice();
  next[cell] = value;
  return next;
}

function occupied(scene: Scene): number[] {
  return scene.flatMap((o, i) => (o ? [i] : []));
}

/**
 * A random modification of `scene` of the given kind, or null when the scene does not allow it
 * (a full scene cannot grow, a single object cannot be removed). Texts follow CSS's templates:
 * "add a small red circle at the top-left", "remove the blue square",
 * "make the red circle blue" (also "… large", "… a triangle").
 */
export function modify(scene: Scene, kind: ModificationKind, random: () => number): Modification | null {
  const objects = occupied(scene);
  if (kind === 'add') {
    if (objects.length >= MAX_OBJECTS) return null;
    const free = scene.flatMap((o, i) => (o ? [] : [i]));
    const cell = pick(random, free);
    const o = randomObject(random);
    return { kind, text: `add a ${o.size} ${o.colour} ${o.shape} at the ${POSITIONS[cell]}`, target: withCell(scene, cell, o) };
  }
  if (objects.length === 0) return null;
  const cell = pick(random, objects);
  const o = scene[cell]!;
  const ref = referTo(scene, cell);
  switch (kind) {
    case 'remove':
      if (objects.length <= MIN_OBJECTS) return null;
      return { kind, text: `remove the ${ref}`, target: withCell(scene, cell, null) };
    case 'colour': {
      const colour = pick(
        random,
        COLOUR_NAMES.filter((c) => c !== o.colour),
      );
      return { kind, text: `make the ${ref} ${colour}`, target: withCell(scene, cell, { ...o, colour }) };
    }
    case 'size': {
      const size = o.size === 'small' ? 'large' : 'small';
      return { kind, text: `make the ${ref} ${size}`, target: withCell(scene, cell, { ...o, size }) };
    }
    case 'shape': {
      const shape = pick(
        random,
        SHAPES.filter((s) => s !== o.shape),
      );
      return { kind, text: `make the ${ref} a ${shape}`, target: withCell(scene, cell, { ...o, shape }) };
    }
  }
}
