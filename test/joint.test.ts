import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFlickr8k } from '../lab/eval/datasets.js';
import { Collection } from '../src/collection.js';
import { JointModel } from '../src/models/joint-model.js';
import { loadWordVectors } from '../src/models/word-vectors.js';
import { JOINT_QUERY_WEIGHT, JointTextSignal } from '../src/search/signals/joint.js';
import { readJointHeader } from '../src/models/joint-format.js';
import { resolveJointModel } from '../src/models/resolve.js';
import { WordTokenizer, words } from '../src/text/word-tokenizer.js';
import { saveJoint } from '../lab/train/joint/checkpoint.js';
import { epochBatches, pairedSet, readCaptionsCsv } from '../lab/train/joint/data.js';
import { rng } from '../lab/random.js';
import { extractImageFeatures } from '../lab/train/joint/features.js';
import { BANK_BETAS } from '../lab/train/joint/query-banks.js';
import { trainJoint, type TrainSplit, type TrainedJoint } from '../lab/train/joint/trainer.js';
import { CLI, LAB_CLI, ROOT, tempDir } from './fixtures.js';

describe('word tokenizer', () => {
  it('splits captions into lower-case words and adds frequent word pairs', () => {
    expect(words("A man's dog, running; in the SNOW .")).toEqual(['a', "man's", 'dog', 'running', 'in', 'the', 'snow']);
    const t = WordTokenizer.fit(['a dog runs', 'a dog sits', 'a cat runs'], { minCount: 2, bigrams: true, bigramMinCount: 2 });
    expect(t.spec.vocab.slice(0, 2)).toEqual(['<pad>', '<unk>']);
    expect(t.spec.vocab).toContain('a_dog');
    expect(t.encode('a dog flies').map((i) => t.spec.vocab[i])).toEqual(['a', 'dog', '<unk>', 'a_dog']);
    const b = t.encodeBatch(['a dog', 'runs']);
    expect(b.width).toBe(3);
    expect(Array.from(b.lengths)).toEqual([3, 1]);
  });

  it('builds batches with every caption once and no image twice in a batch', () => {
    const set = pairedSet(Array.from({ length: 40 }, (_, i) => ({ path: `/x/${i}.jpg`, captions: ['a', 'b', 'c'].map((c) => `${c}${i}`) })));
    const batches = epochBatches(set, 16, rng(3));
    const seen = batches.flatMap((b) => Array.from(b));
    expect(new Set(seen).size).toBe(seen.length);
    for (const b of batches) expect(new Set(Array.from(b, (c) => set.captionImage[c])).size).toBe(b.length);
  });
});

describe('joint embedding training (smoke, a few hundred pairs)', () => {
  const tmp = tempDir('visor-joint-');
  let train: TrainSplit;
  let dev: TrainSplit;
  let trained: TrainedJoint;
  let file: string;

  beforeAll(async () => {
    const cache = path.join(tmp.dir, 'features');
    const trainImages = loadFlickr8k('train').images.slice(0, 120);
    const devImages = loadFlickr8k('dev').images.slice(0, 60);
    const trainSet = pairedSet(trainImages);
    const devSet = pairedSet(devImages);
    train = { set: trainSet, features: await extractImageFeatures(trainSet.images, { cacheDir: cache }) };
    dev = { set: devSet, features: await extractImageFeatures(devSet.images, { cacheDir: cache }) };
    trained = await trainJoint(train, dev, {
      epochs: 12,
      patience: 12,
      batchSize: 40,
      dimension: 128,
      embedDim: 64,
      lr: 3e-3,
      minCount: 2,
      flip: false,
      seed: 7,
    });
    file = path.join(tmp.dir, 'smoke.joint');
  });
  afterAll(() => tmp.cleanup());

  it('the loss falls and retrieval beats chance on held-out images', () => {
    const h = trained.history;
    expect(h.length).toBe(12);
    expect(h[h.length - 1]!.loss).toBeLessThan(h[0]!.loss * 0.8);
    const best = trained.best!;
    // Chance: R@10 = 10/60 ≈ 16.7 % for text→image, 1-(1-10/300)^5 ≈ 16 % for image→text.
    expect(best.textToImage.r10).toBeGreaterThan(25);
    expect(best.imageToText.r10).toBeGreaterThan(25);
    expect(best.textToImage.medianRank).toBeLessThan(30);
  });

  it('saves a versioned .joint file that loads back to the same embeddings', async () => {
    const sha = saveJoint(file, trained, 'smoke');
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    const header = readJointHeader(file);
    expect(header.format).toBe('visor-joint');
    expect(header.version).toBe(1);
    expect(header.imageModel).toBe('mobilenetv2-12-int8');
    expect(header.members[0]!.tokenizer.vocab.length).toBe(trained.tokenizer.vocabSize);
    expect(header.dimension).toBe(128);

    const model = await JointModel.load(file);
    expect(model.dimension).toBe(128);
    // Words never seen in the captions give the joint signal nothing to say (the concept space may).
    expect(model.knows('a dog runs in the snow')).toBe(true);
    expect(model.knows('xylophonist quokka')).toBe(false);
    const t = model.encodeText(['a dog runs in the snow', 'two children play']);
    expect(t.length).toBe(256);
    let norm = 0;
    for (let i = 0; i < 128; i++) norm += t[i]! * t[i]!;
    expect(norm).toBeCloseTo(1, 4);
    const f = train.features;
    const im = model.encodeImages(f.features.subarray(0, 3 * 1280), f.probs.subarray(0, 3 * 1000), 3);
    expect(im.length).toBe(3 * 128);
    // Same answer as the model in memory, and the caption of image 0 prefers image 0 to most others.
    const again = await JointModel.fromTensors(header, new Map([...trained.tensors].map(([k, v]) => [`m0.${k}`, v.data])));
    expect(Array.from(again.encodeText(['a dog runs in the snow']))).toEqual(Array.from(t.subarray(0, 128)));
    model.close();
    again.close();
  });

  it('finds a model by name in the models path and refuses corrupt or future files', () => {
    const dir = path.join(tmp.dir, 'models');
    fs.mkdirSync(path.join(dir, 'joint'), { recursive: true });
    fs.copyFileSync(file, path.join(dir, 'joint', 'mine.joint'));
    const paths = { modelsPath: [dir], cacheDir: path.join(tmp.dir, 'cache'), defaultDb: '', datasetsPath: [], offline: true };
    expect(resolveJointModel('mine', paths)).toBe(path.join(dir, 'joint', 'mine.joint'));
    expect(() => resolveJointModel('absent', paths)).toThrow(/not found/);

    const bytes = fs.readFileSync(file);
    const corrupt = path.join(tmp.dir, 'corrupt.joint');
    const c = Buffer.from(bytes);
    c[c.length - 5] = c[c.length - 5]! ^ 0xff;
    fs.writeFileSync(corrupt, c);
    return Promise.all([
      expect(JointModel.load(corrupt)).rejects.toThrow(/sha256/),
      (async () => {
        const h = bytes.readUInt32LE(8);
        const json = bytes.toString('utf8', 12, 12 + h).replace('"version":1', '"version":9');
        const future = path.join(tmp.dir, 'future.joint');
        fs.writeFileSync(future, Buffer.concat([bytes.subarray(0, 12 + h).fill(Buffer.from(json), 12), bytes.subarray(12 + h)]));
        await expect(JointModel.load(future)).rejects.toThrow(/version 9/);
      })(),
    ]);
  });

  it('reads pretrained word vectors beside the learned ones: rare and unseen words get a meaning, frozen ones stay as read', async () => {
    const vectors = await loadWordVectors();
    const t = await trainJoint(train, null, {
      epochs: 1,
      batchSize: 40,
      dimension: 32,
      embedDim: 16,
      minCount: 3,
      flip: false,
      seed: 5,
      wordVectors: 'frozen',
      extraWords: 3000,
    });
    const vocab = t.tokenizer.spec.vocab;
    const counts = new Map<string, number>();
    for (const c of train.set.captions) for (const w of words(c)) counts.set(w, (counts.get(w) ?? 0) + 1);
    // A word seen once is kept when it has a vector, dropped when it has none.
    const once = [...counts].filter(([, n]) => n === 1).map(([w]) => w);
    expect(once.filter((w) => vectors.has(w)).every((w) => vocab.includes(w))).toBe(true);
    expect(once.filter((w) => !vectors.has(w)).some((w) => vocab.includes(w))).toBe(false);
    const unseen = vocab.filter((w, i) => i > 1 && !w.includes('_') && !counts.has(w));
    expect(unseen.length).toBeGreaterThan(1000);
    expect(t.architecture.text.wordDim).toBe(vectors.dim);
    const W = vectors.dim;
    const E = t.architecture.text.embedDim;
    const table = t.tensors.get('text.words')!.data;
    const embed = t.tensors.get('text.embed')!.data;
    for (const w of ['dog', once.find((x) => vectors.has(x))!, unseen[0]!]) {
      const id = vocab.indexOf(w);
      // Frozen: exactly the word's vector after training.
      expect(Array.from(table.subarray(id * W, (id + 1) * W))).toEqual(Array.from(vectors.vector(w)!));
    }
    // An unseen word has no learned part: only its word vector speaks for it.
    const u = vocab.indexOf(unseen[0]!);
    expect(embed.subarray(u * E, (u + 1) * E).every((x) => x === 0)).toBe(true);
    const f = path.join(tmp.dir, 'words.joint');
    saveJoint(f, t, 'words');
    const model = await JointModel.load(f);
    expect(model.knows(unseen[0]!)).toBe(true);
    const inMemory = await JointModel.fromTensors(readJointHeader(f), new Map([...t.tensors].map(([k, v]) => [`m0.${k}`, v.data])));
    expect(Array.from(model.encodeText([`a dog and a ${unseen[0]}`]))).toEqual(Array.from(inMemory.encodeText([`a dog and a ${unseen[0]}`])));
    model.close();
    inMemory.close();
  });

  it('stops after `stopAfter` epochs of its schedule, as the full schedule would have been at that epoch', async () => {
    const small = { epochs: 3, batchSize: 40, dimension: 32, embedDim: 16, minCount: 2, flip: false, seed: 13 };
    const full = await trainJoint(train, null, small);
    const stopped = await trainJoint(train, null, { ...small, stopAfter: 2 });
    const shorter = await trainJoint(train, null, { ...small, epochs: 2 });
    expect(full.history).toHaveLength(3);
    expect(stopped.history).toHaveLength(2);
    // The learning rate still decays over three epochs: the same steps as the full run's first two.
    expect(stopped.history.map((h) => h.loss)).toEqual(full.history.slice(0, 2).map((h) => h.loss));
    expect(shorter.history[1]!.loss).not.toBe(stopped.history[1]!.loss);
  });

  it('is reproducible: the same seed gives the same weights', async () => {
    const small = { epochs: 1, batchSize: 40, dimension: 32, embedDim: 16, minCount: 2, flip: false, seed: 11 };
    const a = await trainJoint(train, null, small);
    const b = await trainJoint(train, null, small);
    expect(Array.from(a.tensors.get('text.proj.w')!.data)).toEqual(Array.from(b.tensors.get('text.proj.w')!.data));
  });
});

describe('visor-lab train joint / visor index --text-model / search text / caption / eval flickr8k', () => {
  const tmp = tempDir('visor-joint-cli-');
  afterAll(() => tmp.cleanup());
  const run = (args: string[], cli = CLI) =>
    spawnSync(process.execPath, [cli, ...args], { cwd: ROOT, env: { ...process.env, VISOR_CACHE_DIR: path.join(tmp.dir, 'cache') }, encoding: 'utf8' });

  it('turns down --final without --flickr8k, before any work', () => {
    const r = run(['train', 'joint', '--captions', path.join(tmp.dir, 'none.csv'), '--final', '--out', path.join(tmp.dir, 'f.joint')], LAB_CLI);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--final fits the Flickr8k recipe.*needs --flickr8k/);
    expect(fs.existsSync(path.join(tmp.dir, 'f.joint'))).toBe(false);
  });

  it('trains from a captions CSV, then searches an index by sentence and captions a photo', async () => {
    const data = loadFlickr8k('train').images.slice(0, 80);
    const csv = path.join(tmp.dir, 'captions.csv');
    const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
    fs.writeFileSync(csv, ['image,caption', ...data.flatMap((d) => d.captions.map((c) => `${quote(d.path)},${quote(c)}`))].join('\n'));
    expect(readCaptionsCsv(csv).length).toBe(80);
    const devCsv = path.join(tmp.dir, 'dev.csv');
    const devData = loadFlickr8k('dev').images.slice(0, 30);
    fs.writeFileSync(devCsv, ['image,caption', ...devData.flatMap((d) => d.captions.map((c) => `${quote(d.path)},${quote(c)}`))].join('\n'));
    const out = path.join(tmp.dir, 'mine.joint');
    const t = run(
      ['train', 'joint', '--captions', csv, '--dev', devCsv, '--out', out, '--epochs', '3', '--dimension', '64', '--no-flip', '--json', '--progress', 'none'],
      LAB_CLI,
    );
    expect(t.status, t.stderr).toBe(0);
    const summary = JSON.parse(t.stdout);
    expect(summary.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(summary.pairs.train).toBe(400);
    expect(summary.epochs).toBe(3);
    expect(fs.existsSync(out)).toBe(true);
    // With a dev split, the file carries query banks (querybank normalisation), β chosen on dev.
    const header = readJointHeader(out);
    expect(BANK_BETAS).toContain(header.queryBanks?.text?.beta);
    expect(BANK_BETAS).toContain(header.queryBanks?.image?.beta);
    expect(header.tensors.find((x) => x.name === 'bank.text')?.shape).toEqual([80 * 5, 64]);
    expect(header.tensors.find((x) => x.name === 'bank.image')?.shape).toEqual([80, 64]);
    expect((header.training.queryBanks as unknown[]).length).toBe(BANK_BETAS.length);
    expect(summary.queryBanks).toEqual({ textToImage: header.queryBanks!.text!.beta, imageToText: header.queryBanks!.image!.beta });

    // Two losses × two seeds, two at a time in child processes: one ensemble of four members.
    const out4 = path.join(tmp.dir, 'four.joint');
    const p = run(
      [
        'train',
        'joint',
        '--captions',
        csv,
        '--dev',
        devCsv,
        '--out',
        out4,
        '--epochs',
        '1',
        '--dimension',
        '32',
        '--no-flip',
        '--loss',
        'both',
        '--members',
        '2',
        '--jobs',
        '2',
        '--json',
        '--progress',
        'none',
      ],
      LAB_CLI,
    );
    expect(p.status, p.stderr).toBe(0);
    const four = JSON.parse(p.stdout);
    expect(four.members.map((m: { loss: string }) => m.loss)).toEqual(['infonce', 'infonce', 'vse', 'vse']);
    const h4 = readJointHeader(out4);
    expect(h4.dimension).toBe(4 * 32);
    expect(new Set(h4.members.map((m) => (m.training as { config: { seed: number } }).config.seed))).toEqual(new Set([1, 2]));
    expect(fs.existsSync(path.join(`${out4}.ckpt`, 'vse-2.joint'))).toBe(true);

    const db = path.join(tmp.dir, 'db');
    const images = data.slice(0, 20).map((d) => d.path);
    const ix = run(['--db', db, 'index', ...images, '--text-model', out, '--json', '--progress', 'none']);
    expect(ix.status, ix.stderr).toBe(0);
    expect(JSON.parse(ix.stdout).textModel.sha256).toBe(summary.sha256);

    const s = run(['--db', db, 'search', ...data[0]!.captions[0]!.split(' '), '-k', '20', '--json']);
    expect(s.status, s.stderr).toBe(0);
    const results = JSON.parse(s.stdout).results as Array<{ path: string; score: number }>;
    expect(results).toHaveLength(20);
    expect(results[0]!.score).toBeGreaterThanOrEqual(results[19]!.score);
    // Its own (training) caption puts the image in the top half of 20.
    expect(results.findIndex((r) => r.path === data[0]!.path)).toBeLessThan(10);

    // In the engine: a sentence is led by the joint model, a lone word mostly left to the concept space.
    const collection = await Collection.open({ db });
    try {
      const { ids } = await collection.store.vectors();
      const model = await JointModel.load(out);
      const signal = new JointTextSignal(collection.store, async () => model);
      const sentence = await signal.score(data[0]!.captions[0]!.split(' '), ids);
      expect(sentence!.scores).toHaveLength(20);
      expect(sentence!.weight).toBe(JOINT_QUERY_WEIGHT.sentence);
      expect((await signal.score(['dog'], ids))!.weight).toBe(JOINT_QUERY_WEIGHT.word);
      expect(await signal.score(['xylophonist'], ids)).toBeNull();
      model.close();
    } finally {
      await collection.close();
    }

    const c = run(['--db', db, 'caption', data[1]!.path, '--corpus', csv, '-k', '3', '--json']);
    expect(c.status, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout).results).toHaveLength(3);

    const e = run(['eval', 'flickr8k', '--text-model', out, '--split', 'dev', '--limit', '50', '--fused', '--json', '--progress', 'none'], LAB_CLI);
    expect(e.status, e.stderr).toBe(0);
    const report = JSON.parse(e.stdout);
    expect(report.textToImage.queries).toBe(250);
    expect(report.imageToText.queries).toBe(50);
    expect(report.textToImage.r10).toBeGreaterThanOrEqual(report.textToImage.r1);
    // The same captions through the search engine, the joint model as one fused text signal.
    expect(report.fused.textToImage.queries).toBe(250);
    expect(report.fused.understood.joint).toBe(250);
    expect(report.fused.textToImage.r10).toBeGreaterThan(20); // chance: 10 of 50 images
  }, 300_000);
});
