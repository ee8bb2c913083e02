#!/usr/bin/env node
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT, runCommand, type GlobalOptions } from './run.js';
import { hintUnknownOption, noteShortOptionWords } from './usage.js';

// Each command's module (and the models, sharp, LanceDB behind it) loads only when that
// command runs, so `visor --help` and quick commands start fast.
const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

// `visor search … --json | head`: the reader has gone, so stop quietly (as Unix tools do), not
// with an unhandled EPIPE stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

const progressOption = () =>
  new Option('--progress <mode>', 'progress display on stderr').choices(['auto', 'bar', 'lines', 'json', 'none']).default('auto');

const wantsJson = process.argv.includes('--json');

const program = new Command()
  .name('visor')
  .description('Multi-modal image search: index folders and catalogues of images, then search them.')
  .version(version)
  .option('--db <dir>', 'index folder (default: $VISOR_DB, else ~/.local/share/visor/index)')
  .option('--json', 'machine-readable output on stdout')
  // Every command takes --db and --json: its own --help lists them too.
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError('(run with --help for usage)')
  // A wrong command line is wrong input like any other: exit code 2, and a JSON error with --json.
  .configureOutput({ outputError: (text, write) => (wantsJson ? undefined : write(text)) })
  .exitOverride();

function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

program
  .command('index')
  .description('add folders, image files or catalogues (CSV/TSV/JSONL/JSON) to the index, or bring them up to date')
  .argument('<sources...>', 'folders, images, or catalogue files (a column path/file/image plus any others)')
  .option('--hidden', 'include hidden files and folders')
  .option('--all-files', 'try every file, not only image extensions')
  .option('--batch-size <n>', 'images per model run', positiveInt('--batch-size'))
  .option('--workers <n>', 'embedding threads (default: one per core)', positiveInt('--workers'))
  .option('--max-pixels <n>', 'refuse images with more pixels (decompression bombs)', positiveInt('--max-pixels'))
  .option('--max-file-mb <n>', 'skip files larger than this', positiveInt('--max-file-mb'))
  .option('--text-model <file>', 'joint text–image model (.joint file or name) for text search of this index')
  .option('--model <id|folder>', 'main image model of a new index: mobilenetv2-12-int8 (default), a CLIP-family id such as clip-vit-b32, or a model folder')
  .option('--space <id|folder>', 'also embed with a vision–language model into a further space beside the main features (e.g. clip-vit-b32, or a model folder)')
  .addOption(progressOption())
  .action(async (sources: string[], _o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/index-cmd.js')).indexCommand(sources, cmd.optsWithGlobals()));
  });

const collect = (v: string, prev: string[]) => [...prev, v];

program
  .command('search')
  .description('find images by words, by example images, or both; "-word" and --not-image push results away')
  .argument('[text...]', 'words; -word or -"two words" are negative terms')
  .option('-i, --image <file>', 'query image (repeat for several)', collect, [])
  .option('--not-image <file>', 'image whose look results should avoid (repeatable)', collect, [])
  .option('--like <id>', 'indexed image id (or its first digits, as results show it) to find more like (repeatable)', collect, [])
  .option('--unlike <id>', 'indexed image id (or its first digits) to move away from (repeatable)', collect, [])
  .option('--more-like <id>', 'same as --like', collect, [])
  .option('--less-like <id>', 'same as --unlike', collect, [])
  .option('-t, --text <words>', 'with --image or --like: how the results should differ from it ("with a red ball"), a composed query; alone: words to search for')
  .option('--compose-model <file>', 'trained composition model for --image/--text (visor train compose --encoder mobilenet-pooled)')
  .option('--compose-weight <w>', 'zero-shot composition: weight of --text against the image (default 1)', nonNegativeNumber('--compose-weight'))
  .option('-k, --k <n>', 'number of results', positiveInt('-k'), 10)
  .option('--offset <n>', 'skip this many results (paging)', nonNegativeInt, 0)
  .option('-w, --where <sql>', "filter on catalogue columns, e.g. \"category = 'bottle' AND price < 20\"")
  .option('--weights <list>', 'signal weights, e.g. visual=1,concepts=1,keywords=0.5,negative=1')
  .addOption(new Option('--fusion <method>', 'how signals combine').choices(['rrf', 'score']))
  .option('--exact', 'exhaustive search even when an approximate index exists')
  .option('--exclude-self', 'leave query images that are themselves indexed out of the results')
  .option('--text-model <file>', 'joint text–image model for a text query (default: the one the index was given)')
  .option('--space <name>', 'with one --image: compare in this embedding space (e.g. clip-vit-b32) instead of the image features')
  .option('--narrow', "search the query image's predicted categories first (after 'visor categorize')")
  .option('--localize', "compare the objects, not the whole images (after 'visor localize')")
  .option('--rerank', 're-rank the top results by silhouette overlap (after \'visor localize\')')
  .action(async (text: string[], _o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/search-cmd.js')).searchCommand(text, cmd.optsWithGlobals()));
  });

program
  .command('stats')
  .description('what the index holds')
  .action(async (_o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/stats-cmd.js')).statsCommand(o));
  });

program
  .command('remove')
  .description('remove files, or everything under folders, from the index (the files themselves are untouched)')
  .argument('<paths...>', 'indexed files or folders')
  .action(async (paths: string[], _o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/remove-cmd.js')).removeCommand(paths, o));
  });

program
  .command('eval')
  .description('run a standard retrieval benchmark through the normal index and search path')
  .argument('<dataset>', 'cifar10 | cifar10-zeroshot | flickr8k (--text-model or --zero-shot) | tags | cifar10-classify (category stage) | objects (localisation stage) | css (composed retrieval)')
  .option('--limit <n>', 'evaluate on a subset of n images (objects: n images per object)', positiveInt('--limit'))
  .option('--zero-shot', 'flickr8k: text search with no trained model (concepts and keywords)')
  .addOption(new Option('--split <name>', 'flickr8k and tags: which split (dev: for choosing settings)').choices(['test', 'dev']).default('test'))
  .option('-k, --k <n>', 'tags: tags per image', positiveInt('-k'), 5)
  .option('--text-model <file>', 'flickr8k: the joint text–image model to evaluate; cifar10-zeroshot: fuse it with the concepts')
  .option('--fused', 'flickr8k --text-model: also rank text→image through the search engine, the joint model fused with concepts and keywords')
  .option('--weights <list>', 'flickr8k --fused: signal weights, e.g. joint=1,concepts=0.5,keywords=1')
  .addOption(new Option('--fusion <method>', 'flickr8k --fused: how signals combine').choices(['rrf', 'score']))
  .option('--queries <n>', 'css: queries per split (default 16000)', positiveInt('--queries'))
  .option('--epochs <n>', 'css: training epochs (default 8)', positiveInt('--epochs'))
  .addOption(new Option('--encoder <kind>', 'css: image encoder').choices(['cnn', 'mobilenet-pooled', 'mobilenet-spatial']))
  .option('--keep <dir>', 'css: generate the data set into this folder and keep it')
  .option('--no-mirror', 'cifar10-classify: no mirror images (training samples and averaged predictions)')
  .option('--out <file>', 'also write the report as JSON to this file')
  .addOption(progressOption())
  .action(async (dataset: string, _o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/eval-cmd.js')).evalCommand(dataset, cmd.optsWithGlobals()));
  });

// Numbers are checked where they are typed: "abc" would otherwise reach training as NaN.
function nonNegativeNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0`);
    return n;
  };
}

function positiveNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
}

const train = program.command('train').description('train models: a classifier on the collection, a joint text–image model from captions, an image+text composition model from triplets');
train
  .command('joint')
  .description('learn a joint text–image embedding from captioned images (for text search and captioning)')
  .option('--captions <file>', 'training captions: CSV with image and caption columns, one caption per row')
  .option('--images <dir>', 'folder the image names are relative to (default: beside the CSV, or its images/)')
  .option('--dev <file>', 'dev captions CSV: settings and the stopping epoch are chosen on it')
  .option('--dev-images <dir>', 'folder of the dev images (default: --images)')
  .option('--flickr8k', 'train on the Flickr8k train split and select on its dev split (data sets search path)')
  .requiredOption('--out <file>', 'the model file to write (.joint)')
  .option('--epochs <n>', 'most epochs (early stopping on dev may end sooner)', positiveInt('--epochs'))
  .option('--patience <n>', 'stop after this many epochs without a better dev score', positiveInt('--patience'))
  .option('--batch-size <n>', 'pairs per step', positiveInt('--batch-size'))
  .option('--lr <x>', 'peak learning rate', positiveNumber('--lr'))
  .addOption(new Option('--loss <name>', 'ranking loss; both: one network each, saved as an ensemble').choices(['infonce', 'vse', 'both']))
  .addOption(new Option('--encoder <name>', 'text encoder').choices(['mean', 'attn', 'gru']))
  .option('--dimension <n>', 'size of the joint space', positiveInt('--dimension'))
  .option('--seed <n>', 'random seed (same seed, same model)', nonNegativeInt)
  .option('--no-probs', 'do not feed the image model class probabilities to the image head')
  .option('--no-flip', 'no mirrored-image augmentation')
  .option('--no-bigrams', 'words only, no word-pair tokens')
  .addOption(progressOption())
  .action(async (_o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/train-cmd.js')).trainJointCommand(cmd.optsWithGlobals()));
  });

program
  .command('caption')
  .description('the captions of a corpus that best describe a photo (image → text)')
  .argument('<image>', 'the photo')
  .requiredOption('--corpus <file>', 'candidate captions: CSV with a caption column, or one caption per line')
  .option('--text-model <file>', 'joint text–image model (default: the one the index was given)')
  .option('-k, --k <n>', 'number of captions', positiveInt('-k'), 5)
  .action(async (image: string, _o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/caption-cmd.js')).captionCommand(image, cmd.optsWithGlobals()));
  });

train
  .command('compose')
  .description('train an image+text composition model on (reference image, modification text, target image) triplets')
  .requiredOption('--triplets <file>', 'CSV/TSV with reference, text and target columns')
  .option('--images <dir>', "folder the triplets' image paths are relative to (default: the triplets file's folder)")
  .requiredOption('--out <file>', 'where to save the model (e.g. shop.compose)')
  .addOption(new Option('--fusion <kind>', 'fusion module: TIRG gated residual, or MLP on the concatenation').choices(['tirg', 'concat']).default('tirg'))
  .addOption(
    new Option('--encoder <kind>', 'image encoder: a small CNN trained with the rest, or frozen MobileNetV2 features with a learned projection')
      .choices(['cnn', 'mobilenet-pooled', 'mobilenet-spatial'])
      .default('cnn'),
  )
  .option('--epochs <n>', 'passes over the triplets', positiveInt('--epochs'))
  .option('--batch-size <n>', 'triplets per step', positiveInt('--batch-size'))
  .option('--lr <rate>', 'peak learning rate', positiveNumber('--lr'))
  .option('--seed <n>', 'random seed', nonNegativeInt)
  .addOption(progressOption())
  .action(async (_o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/train-compose-cmd.js')).trainComposeCommand(cmd.optsWithGlobals()));
  });

program
  .command('serve')
  .description('serve the index over HTTP: a search page in the browser and a JSON API (/api/openapi.json)')
  .option('--host <address>', 'address to listen on; anything but loopback needs an API key', '127.0.0.1')
  .option('--port <n>', 'port to listen on (0: any free port)', nonNegativeInt, 8080)
  .option('--api-key <key>', 'bearer key for writes (and for everything off loopback); prefer $VISOR_API_KEY')
  .option('--max-upload-mb <n>', 'largest upload per request', positiveInt('--max-upload-mb'), 20)
  .option('--max-pixels <n>', 'refuse uploaded images with more pixels', positiveInt('--max-pixels'), 50_000_000)
  .option('--rate-limit <n>', 'requests per minute per non-loopback client (uploads: a tenth); 0 turns it off', nonNegativeInt, 600)
  .option('--search-cache <n>', 'answers to recent searches kept until the index changes; 0 turns the cache off', nonNegativeInt, 256)
  .option('--search-workers <n>', 'worker threads answering searches, each with its own copy of the vectors in memory; 0: the main thread', nonNegativeInt, 0)
  .option('--compose-model <file>', "trained composition model that searches may ask for with compose.trained (visor train compose --encoder mobilenet-pooled)")
  .option('--cors-origin <origin>', 'allow this origin to call the API from a browser (repeatable); none by default', collect, [])
  .option('--create', 'start with an empty index when --db holds none (add images through the API)')
  .option('--log', 'log every request (JSON lines on stdout)')
  .action(async (_o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/serve-cmd.js')).serveCommand(cmd.optsWithGlobals()));
  });

program
  .command('localize')
  .description('find the object in every image: silhouettes and object features for --localize/--rerank searches')
  .option('--method <name>', 'activation, border, activation+colour, border+colour or combined+colour (default border+colour)')
  .option('--batch-size <n>', 'images per model run', positiveInt('--batch-size'))
  .addOption(progressOption())
  .action(async (_o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/domain-cmd.js')).localizeCommand(cmd.optsWithGlobals()));
  });

program
  .command('categorize')
  .description('give every image a category (its catalogue value, else predicted) so searches narrow to it')
  .option('--model <file>', "a classifier from 'visor train classify'")
  .option('--zero-shot <names>', 'no labels: comma-separated category names, read through WordNet onto ImageNet classes')
  .option('--column <name>', 'catalogue column whose values override predictions')
  .option('--force', 'redo images already categorised by this classifier')
  .addOption(progressOption())
  .action(async (_o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/domain-cmd.js')).categorizeCommand(cmd.optsWithGlobals()));
  });

train
  .command('classify')
  .description('category classifier on the stored image features, from a catalogue column (cross-validated, calibrated)')
  .requiredOption('--column <name>', 'catalogue column holding the categories')
  .requiredOption('--out <file>', 'where to write the classifier (JSON)')
  .option('--folds <n>', 'cross-validation folds', positiveInt('--folds'), 5)
  .option('--epochs <n>', 'training epochs', positiveInt('--epochs'))
  .option('--l2 <x>', 'L2 penalty', nonNegativeNumber('--l2'))
  .option('--no-plot', 'do not write the confusion matrix SVG')
  .option('--mirror', "also train on each image's left-right mirror (one model run per image); searches then average the query and its mirror")
  .addOption(progressOption())
  .action(async (_o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/domain-cmd.js')).trainClassifyCommand(cmd.optsWithGlobals()));
  });

program
  .command('tags')
  .description('words that describe images: visual concepts with their broader terms, and confidence')
  .argument('<images...>', "image files, tagged by the --db index's main model when that index exists (else MobileNetV2); or indexed item ids, or their first digits, with --id")
  .option('-k, --k <n>', 'at most this many tags per image', positiveInt('-k'), 5)
  .option('--id', 'the arguments are indexed item ids')
  .option('--min-confidence <p>', 'leave out tags below this confidence (0–1, default 0.05)', (v) => {
    const n = Number(v);
    if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be between 0 and 1');
    return n;
  })
  .action(async (images: string[], _o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/tags-cmd.js')).tagsCommand(images, cmd.optsWithGlobals()));
  });

const models = program.command('models').description('the models Visor uses: list, download, verify, add');
models
  .command('list')
  .description('known models and whether their files are here')
  .action(async (_o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/models-cmd.js')).modelsListCommand(o));
  });
models
  .command('pull')
  .description('download a model and verify its sha256')
  .argument('<id>')
  .action(async (id: string, _o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/models-cmd.js')).modelsPullCommand(id, o));
  });
models
  .command('verify')
  .description('check the sha256 of local model files')
  .argument('[id]')
  .action(async (id: string | undefined, _o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/models-cmd.js')).modelsVerifyCommand(id, o));
  });

models
  .command('add')
  .description('use a local model folder (Hugging Face ONNX layout: configs, tokenizer.json, onnx/vision_model*.onnx, onnx/text_model*.onnx)')
  .argument('<folder>')
  .requiredOption('--format <format>', 'layout of the folder: hf-onnx')
  .option('--id <id>', "id to use it under (default: the folder's name)")
  .option('--variant <precision>', 'ONNX precision when the folder holds several: quantized, fp32, int8, uint8')
  .action(async (folder: string, _o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/models-cmd.js')).modelsAddCommand(folder, cmd.optsWithGlobals()));
  });

noteShortOptionWords(process.argv);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (!(e instanceof CommanderError)) throw e;
  // Help and --version end here too, with exit code 0.
  if (e.exitCode !== 0 && wantsJson) process.stdout.write(`${JSON.stringify({ error: { code: 'USAGE', message: e.message.replace(/^error: /, '') } })}\n`);
  hintUnknownOption(e, process.argv);
  process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
}
