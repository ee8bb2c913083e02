/** Fills the LFW face-embedding cache that `npm run eval -- faces` reads (it fills it itself when missing). */
import { lfwFaces, loadLfw } from '../eval/lfw.js';

const lfw = loadLfw();
const out = await lfwFaces(lfw, { onProgress: (d, t) => d % 500 === 0 && process.stderr.write(`${d}/${t}\n`) });
process.stdout.write(`${lfw.images.length} images, ${out.found.reduce((a, b) => a + b, 0)} with a face, fallback ${out.fallback}, ${out.seconds.toFixed(0)} s\n`);
