import { VisorError } from '../../errors.js';
import { DEFAULT_LOCALIZE_METHOD } from '../../localize/localizer.js';
import type { DomainStages } from '../../domain/stages.js';
import type { EncodedObject } from '../../domain/object-encoder.js';
import type { DomainIndex } from '../../domain/domain-index.js';
import { contentId } from '../../ingest/read-image.js';
import { readQueryImage } from '../read-query-image.js';
import type { QueryContext, StageState } from '../signal.js';

/** The stages' data (side tables) and the query image as they read it, shared by the stages of one query. */
export interface DomainQuery {
  data: DomainStages;
  index: DomainIndex;
  /** The query image through the object encoder: features, probabilities, object and silhouette. */
  object: EncodedObject;
}

const prepared = new WeakMap<StageState, Promise<DomainQuery>>();

/** Whether a query turns a stage on. */
export function asks(ctx: Pick<QueryContext, 'query'>, name: string): boolean {
  const s = ctx.query.stages?.[name];
  return s !== undefined && s !== false;
}

/** Reads the query image once for all the stages of a query (one model run, with its mirror when narrowing asks). */
export function domainQuery(ctx: QueryContext, state: StageState, data: () => Promise<DomainStages>): Promise<DomainQuery> {
  let p = prepared.get(state);
  if (!p) {
    p = (async () => {
      const q = ctx.query;
      const images = q.images ?? [];
      if (
        images.length !== 1 ||
        ctx.text.positive.length ||
        ctx.text.negative.length ||
        q.like?.length ||
        q.notImages?.length ||
        q.unlike?.length ||
        q.compose ||
        q.space
      ) {
        throw new VisorError('QUERY_INVALID', 'the narrow, localize and rerank stages take exactly one query image and no words, other examples or space');
      }
      const d = await data();
      const ref = images[0]!;
      const image = typeof ref === 'object' && !Buffer.isBuffer(ref) && 'image' in ref ? ref.image : ref;
      if (typeof image === 'object' && !Buffer.isBuffer(image))
        throw new VisorError('QUERY_INVALID', 'the narrow, localize and rerank stages read the query image itself: give a file, not an item id');
      const bytes = typeof image === 'string' ? await readQueryImage(image) : image;
      const localize = asks(ctx, 'localize') || asks(ctx, 'rerank');
      const predictor = asks(ctx, 'narrow') ? await d.predictor() : null;
      const index = await d.index();
      if (localize && index.localized === 0) {
        throw new VisorError('QUERY_INVALID', "the collection is not localised: run 'visor localize' first (or search without --localize/--rerank)");
      }
      const encoder = await d.encoder();
      // A classifier trained with mirror images averages over the query and its mirror (same model run).
      const method = d.settings.localize?.method ?? DEFAULT_LOCALIZE_METHOD;
      const boxes = localize ? await d.boxesFor(method, [{ id: contentId(bytes), bytes }]) : undefined;
      const [object] = await encoder.encode([bytes], { localize, method, boxes, maxPixels: q.maxPixels, mirror: predictor?.mirror === true });
      if (object!.localization) {
        const m = object!.localization.mask;
        state.report.object = { found: object!.localization.found, box: m.box, area: m.area };
      }
      return { data: d, index, object: object! };
    })();
    prepared.set(state, p);
  }
  return p;
}
