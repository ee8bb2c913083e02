#!/usr/bin/env node
import { InvalidArgumentError, Option, type Command, type CommanderError } from 'commander';
import { collect, globals, nonNegativeInt, nonNegativeNumber, parseProgram, positiveInt, progressOption, visorProgram } from './program.js';
import { runCommand } from './run.js';
import { VisorError } from '../errors.js';
import type { IndexCommandOptions } from './commands/index-common.js';

// Each command's module (and the models, sharp, LanceDB behind it) loads only when that
// command runs, so `visor --help` and quick commands start fast. Evaluation and training are
// the lab's: `visor-lab` (lab/cli/main.ts).
const program = visorProgram('visor', 'Multi-modal image search: index folders and catalogues of images, then search them.');

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
  .option('--facts <stages>', 'what to read in each image, kept for this index: objects,colours,text, all or none (default: colours)')
  .option('--no-facts', 'compute no facts for this index (same as --facts none; stored facts are kept)')
  .option(
    '--image-rerank <method>',
    'how image queries of this index re-rank from now on: none (default), diffusion, dba or qe; diffusion and dba keep a neighbour graph (docs/reranking.md)',
  )
  .option('--shards <n>', 'with --db s3://bucket/prefix: shards of a new collection (default 4)', positiveInt('--shards'))
  .option('--queue [url]', "queue the images on NATS JetStream (nats://host:4222; alone: VISOR_QUEUE or the config's) for 'visor worker' processes to embed")
  .option('--batch-files <n>', 'with --queue: files per queued batch (default 48)', positiveInt('--batch-files'))
  .addOption(progressOption())
  .action(async (sources: string[], _o, cmd: Command) => {
    const o = globals(cmd);
    const opts = cmd.optsWithGlobals<IndexCommandOptions>();
    await runCommand(o.json, async () =>
      opts.queue !== undefined
        ? (await import('./commands/index-queue.js')).indexThroughQueue(sources, opts)
        : (await import('./commands/index-cmd.js')).indexCommand(sources, opts),
    );
  });

program
  .command('worker')
  .description("embed and store the images 'visor index --queue' queues for the --db collection; run any number, on any machines")
  .option('--queue <url>', 'the NATS JetStream server (default: VISOR_QUEUE, or "queue" in visor.config.json)')
  .option('--threads <n>', 'embedding threads (default: one per core)', positiveInt('--threads'))
  .option('--batch-size <n>', 'images per model run', positiveInt('--batch-size'))
  .option('--idle-exit <s>', 'exit once the queue has been empty this many seconds', nonNegativeNumber('--idle-exit'))
  .action(async (_o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/worker-cmd.js')).workerCommand(cmd.optsWithGlobals()));
  });

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
  .option('--compose-model <file>', 'trained composition model for --image/--text (visor-lab train compose --encoder mobilenet-pooled)')
  .option('--compose-weight <w>', 'zero-shot composition: weight of --text against the image (default 1)', nonNegativeNumber('--compose-weight'))
  .option('-k, --k <n>', 'number of results', positiveInt('-k'), 10)
  .option('--offset <n>', 'skip this many results (paging)', nonNegativeInt, 0)
  .option('-w, --where <sql>', 'filter on catalogue columns and object counts, e.g. "category = \'bottle\' AND price < 20", "person_count >= 3"')
  .option('--colour <name>', 'only images showing this colour (black, white, grey, red, orange, yellow, green, blue, purple, pink, brown)')
  .option('--person <name>', "only photos with this person (a name or id from 'visor people'; repeat: all of them together)", collect, [])
  .option('--face <file>', 'photos of the person whose face is in this image (its largest face)')
  .option('--weights <list>', 'signal weights, e.g. visual=1,concepts=1,keywords=0.5,negative=1')
  .addOption(new Option('--fusion <method>', 'how signals combine').choices(['rrf', 'score']))
  .option('--exact', 'exhaustive search even when an approximate index exists')
  .option('--exclude-self', 'leave query images that are themselves indexed out of the results')
  .option('--text-model <file>', 'joint text–image model for a text query (default: the one the index was given)')
  .option('--space <name>', 'with one --image: compare in this embedding space (e.g. clip-vit-b32) instead of the image features')
  .option('--narrow', "search the query image's predicted categories first (after 'visor categorize')")
  .option('--localize', "compare the objects, not the whole images (after 'visor localize')")
  .option(
    '--rerank [method]',
    "re-rank with the collection's neighbour graph: none, qe, dba or diffusion (image queries default to the collection's, see docs/reranking.md); alone or 'silhouette': by silhouette overlap (after 'visor localize')",
  )
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

/** A number from 0 to 1, checked where it is typed. */
const unitInterval = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be a number from 0 to 1`);
  return n;
};

program
  .command('remove')
  .description('remove files, or everything under folders, from the index (the files themselves are untouched)')
  .argument('[paths...]', 'indexed files or folders')
  .option('--duplicates', 'remove the copies in each group of near-duplicates (see visor duplicates), keeping one image of each')
  .addOption(new Option('--keep <rule>', 'with --duplicates: the image kept in each group').choices(['largest', 'oldest']).default('largest'))
  .option('--dry-run', 'with --duplicates: list what would be removed, remove nothing')
  .option('--threshold <c>', 'with --duplicates: confidence (0–1) a pair needs to count as copies (default 0.5)', unitInterval('--threshold'))
  .addOption(progressOption())
  .action(async (paths: string[], _o, cmd: Command) => {
    const o = globals(cmd);
    const opts = cmd.optsWithGlobals<{ duplicates?: boolean; keep: 'largest' | 'oldest'; dryRun?: boolean; threshold?: number }>();
    await runCommand(o.json, async () => {
      if (opts.duplicates) {
        if (paths.length) throw new VisorError('QUERY_INVALID', '--duplicates takes no paths: it looks at the whole collection');
        return (await import('./commands/duplicates-cmd.js')).removeDuplicatesCommand(cmd.optsWithGlobals());
      }
      if (!paths.length) throw new VisorError('QUERY_INVALID', 'name the indexed files or folders to remove, or give --duplicates');
      return (await import('./commands/remove-cmd.js')).removeCommand(paths, o);
    });
  });

program
  .command('eval')
  .description('measure search on your own images')
  .command('labels')
  .description('every image of a labelled catalogue queries all the others (relevant = same label): mAP, precision, recall, per label')
  .argument('<catalogue>', 'a catalogue (CSV/TSV/JSONL/JSON) with an image path column and a label column; indexed into a temporary index unless --db is given')
  .requiredOption('--label <column>', "the column holding each image's label")
  .option('-k, --k <n>', 'cut-off for mAP@K and Recall@K (default 1000)', positiveInt('-k'))
  .option('--report <file.html>', 'also write one self-contained page: precision–recall curve, per-label bars, the worst queries as image strips')
  .option('--no-classifier', "skip the category classifier's cross-validated accuracy and confusion matrix")
  .option('--zero-shot', 'also the label names as text queries (text→image): AP per label and mAP')
  .addOption(progressOption())
  .action(async (catalogue: string, _o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/eval-labels-cmd.js')).evalLabelsCommand(catalogue, cmd.optsWithGlobals()));
  });

program
  .command('duplicates')
  .description('groups of near-duplicate images in the collection (edited copies of one picture), each with a confidence')
  .option('--threshold <c>', 'confidence (0–1) a pair needs to count as copies (default 0.5)', unitInterval('--threshold'))
  .option('--report <file.html>', 'also write a page showing the groups side by side')
  .addOption(progressOption())
  .action(async (_o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/duplicates-cmd.js')).duplicatesCommand(cmd.optsWithGlobals()));
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
  .option(
    '--compose-model <file>',
    'trained composition model that searches may ask for with compose.trained (visor-lab train compose --encoder mobilenet-pooled)',
  )
  .option('--cors-origin <origin>', 'allow this origin to call the API from a browser (repeatable); none by default', collect, [])
  .option('--create', 'start with an empty index when --db holds none (add images through the API)')
  .option('--log', 'log every request (JSON lines on stdout)')
  .option('--queue <url>', 'an s3:// collection: the NATS server whose leases coordinate rewrites (default: VISOR_QUEUE, or "queue" in visor.config.json)')
  .option('--upkeep-minutes <n>', 'an s3:// collection: offer to compact and index its shards this often (0: never)', nonNegativeNumber('--upkeep-minutes'), 10)
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
  .option('--model <file>', "a classifier from 'visor-lab train classify'")
  .option('--zero-shot <names>', 'no labels: comma-separated category names, read through WordNet onto ImageNet classes')
  .option('--column <name>', 'catalogue column whose values override predictions')
  .option('--force', 'redo images already categorised by this classifier')
  .addOption(progressOption())
  .action(async (_o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/domain-cmd.js')).categorizeCommand(cmd.optsWithGlobals()));
  });

program
  .command('tags')
  .description(
    "words that describe images: visual concepts with their broader terms, and confidence; and what the --db collection's fact stages found (objects, colours, text)",
  )
  .argument(
    '<images...>',
    "image files, tagged by the --db index's main model when that index exists (else MobileNetV2); or indexed item ids, or their first digits, with --id",
  )
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

program
  .command('people')
  .description("the persons whose faces are in the photos (with the faces fact stage on: 'visor index --facts faces,…'): list, name, merge, split, forget")
  .argument('[action]', 'name <id> "<name>" | show <id|name> | merge <id> <id>… | split <id> <face>… | remove-face <face> | forget <id|name>; none: list them')
  .argument('[args...]', "the action's person ids or names, faces, or the new name")
  .action(async (action: string | undefined, args: string[], _o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/people-cmd.js')).peopleCommand(action, args, o));
  });

program
  .command('text')
  .description('the text printed or written in images, one line per text box with its confidence')
  .argument('<images...>', 'image files (read now, or as stored when the --db index holds them); or indexed item ids, or their first digits, with --id')
  .option('--id', 'the arguments are indexed item ids')
  .action(async (images: string[], _o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/text-cmd.js')).textCommand(images, cmd.optsWithGlobals()));
  });

program
  .command('doctor')
  .description('check that --db can hold a collection: the folder, or for s3://bucket/prefix the endpoint, credentials, bucket, writes and conditional writes')
  .action(async (_o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/doctor-cmd.js')).doctorCommand(o));
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

/** The built-in benchmarks (`visor eval cifar10`) and training are the lab's: say where they are. */
function hintLabCommand(e: CommanderError): void {
  const word = /^error: unknown command '([^']+)'/.exec(e.message)?.[1];
  if (word === 'train') process.stderr.write(`(training is in the lab's command line: visor-lab train …)\n`);
  const args = process.argv.slice(2);
  if (word !== undefined && args[args.indexOf(word) - 1] === 'eval')
    process.stderr.write(
      `(the built-in benchmarks are in the lab's command line: visor-lab eval ${word}; visor eval labels measures search on your own labelled catalogue)\n`,
    );
}

await parseProgram(program, hintLabCommand);
