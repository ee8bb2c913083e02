/**
 * Query words → the detector's COCO classes, through WordNet: a word whose common senses are
 * kinds of a class's synset names that class ("woman", "climber" → person; "puppy", "terrier" →
 * dog; "automobile" → car); a broader word names the classes under it ("animal", "vehicle").
 * Also tells which words are clothing (a colour then qualifies the wearer's box).
 */
import type { Synset, WordNet } from './wordnet.js';

/**
 * The detector's 80 classes (YOLOX's COCO order and names) and the WordNet 3.1 sense each one
 * is; null for the two WordNet lacks (their names still match as written).
 */
export const COCO_SENSES: ReadonlyArray<readonly [label: string, senseKey: string | null]> = [
  ['person', 'person%1:03:00::'],
  ['bicycle', 'bicycle%1:06:00::'],
  ['car', 'car%1:06:00::'],
  ['motorcycle', 'motorcycle%1:06:00::'],
  ['airplane', 'airplane%1:06:00::'],
  ['bus', 'bus%1:06:00::'],
  ['train', 'train%1:06:00::'],
  ['truck', 'truck%1:06:00::'],
  ['boat', 'boat%1:06:00::'],
  ['traffic light', 'traffic_light%1:10:00::'],
  ['fire hydrant', 'fire_hydrant%1:06:00::'],
  ['stop sign', null],
  ['parking meter', 'parking_meter%1:06:00::'],
  ['bench', 'bench%1:06:00::'],
  ['bird', 'bird%1:05:00::'],
  ['cat', 'cat%1:05:00::'],
  ['dog', 'dog%1:05:00::'],
  ['horse', 'horse%1:05:00::'],
  ['sheep', 'sheep%1:05:00::'],
  ['cow', 'cow%1:05:01::'],
  ['elephant', 'elephant%1:05:00::'],
  ['bear', 'bear%1:05:00::'],
  ['zebra', 'zebra%1:05:00::'],
  ['giraffe', 'giraffe%1:05:00::'],
  ['backpack', 'backpack%1:06:00::'],
  ['umbrella', 'umbrella%1:06:00::'],
  ['handbag', 'handbag%1:06:00::'],
  ['tie', 'tie%1:06:01::'],
  ['suitcase', 'suitcase%1:06:00::'],
  ['frisbee', 'frisbee%1:06:00::'],
  ['skis', 'ski%1:06:00::'],
  ['snowboard', 'snowboard%1:06:00::'],
  ['sports ball', 'ball%1:06:01::'],
  ['kite', 'kite%1:06:00::'],
  ['baseball bat', 'baseball_bat%1:06:00::'],
  ['baseball glove', 'baseball_glove%1:06:00::'],
  ['skateboard', 'skateboard%1:06:00::'],
  ['surfboard', 'surfboard%1:06:00::'],
  ['tennis racket', 'tennis_racket%1:06:00::'],
  ['bottle', 'bottle%1:06:00::'],
  ['wine glass', 'wineglass%1:06:00::'],
  ['cup', 'cup%1:06:00::'],
  ['fork', 'fork%1:06:00::'],
  ['knife', 'knife%1:06:00::'],
  ['spoon', 'spoon%1:06:00::'],
  ['bowl', 'bowl%1:06:01::'],
  ['banana', 'banana%1:13:00::'],
  ['apple', 'apple%1:13:00::'],
  ['sandwich', 'sandwich%1:13:00::'],
  ['orange', 'orange%1:13:00::'],
  ['broccoli', 'broccoli%1:13:00::'],
  ['carrot', 'carrot%1:13:00::'],
  ['hot dog', 'hot_dog%1:13:02::'],
  ['pizza', 'pizza%1:13:00::'],
  ['donut', 'donut%1:13:00::'],
  ['cake', 'cake%1:13:00::'],
  ['chair', 'chair%1:06:00::'],
  ['couch', 'couch%1:06:00::'],
  ['potted plant', 'pot_plant%1:20:00::'],
  ['bed', 'bed%1:06:00::'],
  ['dining table', 'dining_table%1:06:00::'],
  ['toilet', 'toilet%1:06:01::'],
  ['tv', 'tv%1:06:00::'],
  ['laptop', 'laptop%1:06:00::'],
  ['mouse', 'mouse%1:06:00::'],
  ['remote', 'remote%1:06:00::'],
  ['keyboard', 'keyboard%1:06:01::'],
  ['cell phone', 'cellular_telephone%1:06:00::'],
  ['microwave', 'microwave%1:06:00::'],
  ['oven', 'oven%1:06:00::'],
  ['toaster', 'toaster%1:06:00::'],
  ['sink', 'sink%1:06:00::'],
  ['refrigerator', 'refrigerator%1:06:00::'],
  ['book', 'book%1:06:00::'],
  ['clock', 'clock%1:06:00::'],
  ['vase', 'vase%1:06:00::'],
  ['scissors', 'scissors%1:06:00::'],
  ['teddy bear', 'teddy_bear%1:06:00::'],
  ['hair drier', 'hair_drier%1:06:00::'],
  ['toothbrush', 'toothbrush%1:06:00::'],
];

/** Clothing: a colour on one of these is the colour of the person wearing it. */
const CLOTHING = ['clothing%1:06:00::', 'headdress%1:06:00::', 'footwear%1:06:00::', 'footwear%1:06:01::', 'helmet%1:06:00::'];
/** Broad words that would name most classes ("thing", "object"): not a reading of the query. */
const MAX_BROAD_CLASSES = 12;
/** A word names a class when the senses that are kinds of it carry at least this share of the word's use. */
const MIN_SENSE_SHARE = 1 / 3;

/** What one query word names among the detector's classes. */
export interface CocoReading {
  /** Class labels: one for a kind of a class, several for a broader word ("animal"). */
  labels: string[];
  /** The WordNet lemma the word was read as ("women" → "woman"). */
  lemma: string;
  /** Written as a plural ("dogs", "children"). */
  plural: boolean;
}

export class CocoWords {
  private readonly classOf = new Map<number, string>();
  /** Synset offset → the classes that are it or kinds of it. */
  private readonly classesUnder = new Map<number, string[]>();
  private readonly clothing: Set<number>;
  private readonly cache = new Map<string, CocoReading | null>();
  private readonly clothingCache = new Map<string, boolean>();
  readonly labels: readonly string[];

  constructor(private readonly wordnet: WordNet) {
    this.labels = COCO_SENSES.map(([label]) => label);
    for (const [label, key] of COCO_SENSES) {
      if (!key) continue;
      const s = wordnet.synsetBySenseKey(key);
      if (!s) throw new Error(`COCO class ${label}: ${key} is not in WordNet ${wordnet.version}`);
      this.classOf.set(s.offset, label);
      for (const o of [s.offset, ...wordnet.ancestors(s).map((a) => a.synset.offset)]) {
        const list = this.classesUnder.get(o);
        if (list) list.push(label);
        else this.classesUnder.set(o, [label]);
      }
    }
    this.clothing = new Set(CLOTHING.map((k) => wordnet.synsetBySenseKey(k)?.offset).filter((o): o is number => o !== undefined));
  }

  /** The classes a word or phrase names, or null ("dog" → dog; "men" → person, plural). */
  read(word: string): CocoReading | null {
    const w = word.toLowerCase();
    let hit = this.cache.get(w);
    if (hit !== undefined) return hit;
    hit = this.readUncached(w);
    this.cache.set(w, hit);
    return hit;
  }

  private readUncached(w: string): CocoReading | null {
    // A class's own name, as the detector writes it ("sports ball", "tv", "skis").
    if (this.labels.includes(w)) return { labels: [w], lemma: w, plural: w === 'skis' };
    const senses = this.wordnet.senses(w);
    if (senses.length === 0) return null;
    const lemma = senses[0]!.lemma;
    // "men", "dogs", "children": a base form other than the word itself ("glass" has none).
    const plural = this.wordnet.baseForms(w).some((f) => f !== w.replace(/-/g, ' ') && f !== w);
    if (this.labels.includes(lemma)) return { labels: [lemma], lemma, plural };
    // Senses weighed by use (tag counts, add-one, as the concept reader does); the classes each
    // sense is a kind of, or (a broader word) the classes under it.
    const weight = new Map<string, number>();
    let total = 0;
    const seen = new Set<number>();
    for (const s of senses) {
      if (seen.has(s.synset.offset)) continue;
      seen.add(s.synset.offset);
      const wgt = s.tagCount + 1;
      total += wgt;
      const labels = this.kindOf(s.synset) ?? this.under(s.synset);
      for (const l of labels) weight.set(l, (weight.get(l) ?? 0) + wgt);
    }
    const labels = [...weight].filter(([, v]) => v >= MIN_SENSE_SHARE * total).map(([l]) => l);
    if (labels.length === 0 || labels.length > MAX_BROAD_CLASSES) return null;
    return { labels, lemma, plural };
  }

  /** The class `s` is (or is a kind of), as a one-element list; null when none. */
  private kindOf(s: Synset): string[] | null {
    const own = this.classOf.get(s.offset);
    if (own) return [own];
    for (const a of this.wordnet.ancestors(s)) {
      const l = this.classOf.get(a.synset.offset);
      if (l) return [l];
    }
    return null;
  }

  /** The classes that are kinds of `s` (for a broader word: "animal", "vehicle"). */
  private under(s: Synset): string[] {
    const out = this.classesUnder.get(s.offset) ?? [];
    return out.length > MAX_BROAD_CLASSES ? [] : out;
  }

  /** Whether one of a word's two commonest senses is a garment, hat or shoe ("shirt", "jacket", "helmet"). */
  isClothing(word: string): boolean {
    const w = word.toLowerCase();
    let v = this.clothingCache.get(w);
    if (v === undefined) {
      v = this.wordnet
        .senses(w)
        .slice(0, 2)
        .some((s) => this.clothing.has(s.synset.offset) || this.wordnet.ancestors(s.synset).some((a) => this.clothing.has(a.synset.offset)));
      this.clothingCache.set(w, v);
    }
    return v;
  }
}
