import fs from 'node:fs';
import path from 'node:path';

/** Fails fast, with a useful message, when ../shared is not beside the checkout. */
export default function setup(): void {
  const shared = path.resolve(import.meta.dirname, '..', '..', 'shared');
  const model = path.join(shared, 'models', 'mobilenetv2-12-int8', 'mobilenetv2-12-int8.onnx');
  if (!fs.existsSync(model)) {
    throw new Error(`Tests need the shared models and data sets beside the repository (expected ${model}).`);
  }
}
