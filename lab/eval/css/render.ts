import sharp from 'sharp';
import { COLOURS, POSITIONS, type Scene, type SceneObject } from './scene.js';

/** Drawing units: a 96-unit square, three 32-unit cells a side, whatever the pixel size. */
const VIEW = 96;
const CELL = VIEW / 3;
const RADIUS = { small: 6.5, large: 12.5 } as const;

function shapeSvg(o: SceneObject, cx: number, cy: number): string {
  const r = RADIUS[o.size];
  const fill = COLOURS[o.colour];
  switch (o.shape) {
    case 'circle':
      return `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}"/>`;
    case 'square': {
      // Equal area to the circle would make squares look small; 0.9 r keeps them visually balanced.
      const h = r * 0.9;
      return `<rect x="${cx - h}" y="${cy - h}" width="${2 * h}" height="${2 * h}" fill="${fill}"/>`;
    }
    case 'triangle': {
      const pts = [0, 1, 2].map((k) => {
        const a = -Math.PI / 2 + (k * 2 * Math.PI) / 3;
        return `${(cx + 1.15 * r * Math.cos(a)).toFixed(2)},${(cy + 1.15 * r * Math.sin(a) + 0.2 * r).toFixed(2)}`;
      });
      return `<polygon points="${pts.join(' ')}" fill="${fill}"/>`;
    }
  }
}

/**
 * The tight box around the object drawn in `cell`, in the pixels of a `pixels`-side render:
 * [left, top, right, bottom], the same geometry as {@link shapeSvg}.
 */
export function objectBox(o: SceneObject, cell: number, pixels: number): [number, number, number, number] {
  const cx = CELL * (cell % 3) + CELL / 2;
  const cy = CELL * Math.floor(cell / 3) + CELL / 2;
  const r = RADIUS[o.size];
  const t = 1.15 * r; // the triangle's circumradius, its centre 0.2 r below the cell's
  const [l, top, right, bottom] =
    o.shape === 'circle'
      ? [-r, -r, r, r]
      : o.shape === 'square'
        ? [-0.9 * r, -0.9 * r, 0.9 * r, 0.9 * r]
        : [-t * Math.cos(Math.PI / 6), -t + 0.2 * r, t * Math.cos(Math.PI / 6), t / 2 + 0.2 * r];
  const k = pixels / VIEW;
  return [(cx + l) * k, (cy + top) * k, (cx + right) * k, (cy + bottom) * k];
}

/** The scene as SVG: objects centred in their grid cells on a light grey ground. */
export function sceneSvg(scene: Scene, pixels: number): string {
  const body = scene.map((o, cell) => (o ? shapeSvg(o, CELL * (cell % 3) + CELL / 2, CELL * Math.floor(cell / 3) + CELL / 2) : '')).join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${pixels}" height="${pixels}" viewBox="0 0 ${VIEW} ${VIEW}">` +
    `<rect width="${VIEW}" height="${VIEW}" fill="#e6e6e6"/>${body}</svg>`
  );
}

/** A PNG of the scene, rendered by sharp (librsvg). */
export function renderScenePng(scene: Scene, pixels: number): Promise<Buffer> {
  if (scene.length !== POSITIONS.length) throw new Error(`a scene has ${POSITIONS.length} cells, got ${scene.length}`);
  return sharp(Buffer.from(sceneSvg(scene, pixels)))
    .png({ compressionLevel: 1 })
    .toBuffer();
}
