#!/usr/bin/env node
import { InvalidArgumentError, Option, type Command } from 'commander';
import { globals, nonNegativeInt, nonNegativeNumber, parseProgram, positiveInt, positiveNumber, progressOption, visorProgram } from '../../src/cli/program.js';
import { runCommand } from '../../src/cli/run.js';
import { parseScales } from '../eval/duplicates-scale-plan.js';

// `visor-lab`: the research side of Visor — evaluation benchmarks and model training. It runs
// the product's own index and search code (src/), which never imports anything from lab/.

/** `--members`: "2" (every loss), or per loss, e.g. "infonce=2,vse=1". */
function membersPerLoss(v: string): number | Record<string, number> {
  const whole = Number(v);
  if (/^\d+$/.test(v) && whole >= 1) return whole;
  const out: Record<string, number> = {};
  for (const part of v.split(',')) {
    const m = /^(infonce|vse)=(\d+)$/.exec(part.trim());
    if (!m || Number(m[2]) < 1) throw new InvalidArgumentError('--members takes a positive integer, or loss=count pairs such as infonce=2,vse=1');
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** `--scale`: multiples of the duplicates benchmark's collection, e.g. "1,2,4". */
function scaleList(v: string): number[] {
  try {
    return parseScales(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

// Each command's module loads only when that command runs.

const program = visorProgram('visor-lab', "Visor's lab: evaluation benchmarks and model training, through the product's own index and search code.");

program
  .command('eval')
  .description('run a standard retrieval benchmark through the normal index and search path')
  .argument(
    '<dataset>',
    'cifar10 | cifar10-zeroshot | flickr8k (--text-model or --zero-shot) | tags | cifar10-classify (category stage) | objects (localisation stage) | css (composed retrieval) | colours (colour facts) | detection (objects stage vs captions) | ocr (text in images) | faces (LFW verification and grouping) | duplicates (near-duplicate groups)',
  )
  .option(
    '--limit <n>',
    'evaluate on a subset of n images (objects: n images per object; colours: n generated scenes, default 1000; ocr: n test photos, 7n distractors)',
    positiveInt('--limit'),
  )
  .option('--zero-shot', 'flickr8k: text search with no trained model (concepts, keywords, and the objects, colours and text read at index time)')
  .option('--no-facts', 'flickr8k --zero-shot, cifar10-zeroshot: index without the fact stages (objects, colours, text)')
  .option('--no-word-vectors', 'flickr8k --zero-shot, cifar10-zeroshot: read words with WordNet alone, no word vectors')
  .option('--senses <list>', 'flickr8k --zero-shot, cifar10-zeroshot: how word vectors choose senses, e.g. prior=1,context=2,floor=0.6')
  .option('--class-names <list>', 'cifar10-zeroshot: the ten class names to query with, comma-separated, in CIFAR-10 order')
  .addOption(new Option('--split <name>', 'flickr8k and tags: which split (dev: for choosing settings)').choices(['test', 'dev']).default('test'))
  .option('-k, --k <n>', 'tags: tags per image', positiveInt('-k'), 5)
  .option('--text-model <file>', 'flickr8k: the joint text–image model to evaluate; cifar10-zeroshot: fuse it with the concepts')
  .option('--fused', 'flickr8k --text-model: also rank text→image through the search engine, the joint model fused with concepts and keywords')
  .option('--weights <list>', 'flickr8k --fused or --zero-shot: signal weights, e.g. joint=1,concepts=0.5,keywords=1,objects=0.5')
  .addOption(new Option('--fusion <method>', 'flickr8k --fused or --zero-shot: how signals combine').choices(['rrf', 'score']))
  .option('--queries <n>', 'css: queries per split (default 16000)', positiveInt('--queries'))
  .option('--epochs <n>', 'css: training epochs (default 8)', positiveInt('--epochs'))
  .addOption(new Option('--encoder <kind>', 'css: image encoder').choices(['cnn', 'mobilenet-pooled', 'mobilenet-spatial']))
  .option('--keep <dir>', 'css: generate the data set into this folder and keep it')
  .option('--no-mirror', 'cifar10-classify: no mirror images (training samples and averaged predictions)')
  .option('--distractors <n>', 'ocr: distractor photos (default 7 × the test photos, at most 7,000)', nonNegativeInt)
  .option('--min-score <x>', "ocr: recognition confidence a line needs (default: the text reader's)", nonNegativeNumber('--min-score'))
  .option('--min-side <px>', 'ocr: small images are enlarged to this longest side for the detector', positiveInt('--min-side'))
  .option('--reads <file>', "ocr: keep each image's reading in this JSON-lines file, reused by the next run with the same settings")
  .option('--sweep', 'faces: also sweep the grouping thresholds on the development people')
  .addOption(
    new Option('--rerank <method>', "cifar10, cifar10-zeroshot, flickr8k --zero-shot: re-rank with this rather than the collection's default").choices([
      'none',
      'qe',
      'dba',
      'diffusion',
    ]),
  )
  .option('--ranked <n>', 'cifar10: rank the first n results of each query only (mAP@1000 and P@10 need 1000; mAP@all is then left out)', positiveInt('--ranked'))
  .option('--growth', 'duplicates: also time grouping on a quarter and a half of the collection')
  .option(
    '--scale <list>',
    'duplicates: time grouping at these multiples of the collection (e.g. 1,2,4), adding LFW then CIFAR-10 images as distractors',
    scaleList,
  )
  .option('--out <file>', 'also write the report as JSON to this file')
  .addOption(progressOption())
  .action(async (dataset: string, _o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/eval-cmd.js')).evalCommand(dataset, cmd.optsWithGlobals()));
  });

const train = program
  .command('train')
  .description('train models: a classifier on the collection, a joint text–image model from captions, an image+text composition model from triplets');
train
  .command('joint')
  .description('learn a joint text–image embedding from captioned images (for text search and captioning)')
  .option('--captions <file>', 'training captions: CSV with image and caption columns, one caption per row')
  .option('--images <dir>', 'folder the image names are relative to (default: beside the CSV, or its images/)')
  .option('--dev <file>', 'dev captions CSV: settings and the stopping epoch are chosen on it')
  .option('--dev-images <dir>', 'folder of the dev images (default: --images)')
  .option('--flickr8k', 'train on the Flickr8k train split and select on its dev split (data sets search path)')
  .option('--final', "with --flickr8k: fit on train and dev together with dev's choices (stopping epochs, query-bank temperatures)")
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
  .addOption(
    new Option('--word-vectors <how>', 'pretrained word vectors (GloVe 100-d) beside the learned ones: kept as read, or trained too (default: tuned)').choices([
      'none',
      'frozen',
      'tuned',
    ]),
  )
  .option(
    '--extra-words <n>',
    'with word vectors: the most frequent GloVe words added to the vocabulary though unseen in training (default 10000)',
    nonNegativeInt,
  )
  .addOption(new Option('--image-head <kind>', 'image side: one linear projection, or plus a residual two-layer MLP').choices(['linear', 'mlp']))
  .option('--members <n>', 'networks per loss in the ensemble (different seeds): a number, or per loss, e.g. infonce=2,vse=1', membersPerLoss)
  .option('--jobs <n>', 'networks trained at once, each in its own process (one core each; default: the cores)', positiveInt('--jobs'))
  .addOption(progressOption())
  .action(async (_o, cmd: Command) => {
    const o = globals(cmd);
    await runCommand(o.json, async () => (await import('./commands/train-joint-cmd.js')).trainJointCommand(cmd.optsWithGlobals()));
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
    await runCommand(o.json, async () => (await import('./commands/train-classify-cmd.js')).trainClassifyCommand(cmd.optsWithGlobals()));
  });

await parseProgram(program);
