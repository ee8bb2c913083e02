import { VisorError } from '../../errors.js';
import type { PersonSummary } from '../../faces/people.js';
import { printJson, table } from '../output.js';
import type { GlobalOptions } from '../run.js';

const USAGE = 'visor people [name <id> "<name>" | show <id|name> | merge <id> <id>… | split <id> <face>… | remove-face <face> | forget <id|name>]';

function need(args: readonly string[], n: number, what: string): void {
  if (args.length < n) throw new VisorError('QUERY_INVALID', `${what}: ${USAGE}`);
}

const line = (p: PersonSummary) =>
  `${p.id}${p.name ? ` "${p.name}"` : ''}: ${p.faces} face${p.faces === 1 ? '' : 's'} in ${p.images} image${p.images === 1 ? '' : 's'}`;

/** `visor people`: the persons found in the photos, and the user's decisions about them. */
export async function peopleCommand(action: string | undefined, args: string[], o: GlobalOptions): Promise<void> {
  const { Collection } = await import('../../collection.js');
  const c = await Collection.open({ db: o.db });
  try {
    if (action === undefined || action === 'list') {
      const people = await c.people();
      if (o.json) return printJson(people);
      if (people.length === 0) {
        process.stdout.write("No persons: switch the faces stage on ('visor index <folder> --facts faces,colours') and index.\n");
        return;
      }
      const rows = [['person', 'name', 'faces', 'images', 'clearest face']];
      for (const p of people) rows.push([p.id, p.name ?? '', String(p.faces), String(p.images), p.face?.id ?? '']);
      process.stdout.write(`${table(rows)}\n`);
      return;
    }
    if (action === 'name') {
      need(args, 2, 'give the person and the name');
      const p = await c.namePerson(args[0]!, args.slice(1).join(' '));
      return o.json ? printJson(p) : void process.stdout.write(`${line(p)}\n`);
    }
    if (action === 'show') {
      need(args, 1, 'give the person');
      const p = await c.person(args[0]!);
      if (o.json) return printJson(p);
      process.stdout.write(`${line(p)}\nfaces: ${p.faceIds.join(' ')}\n`);
      return;
    }
    if (action === 'merge') {
      need(args, 2, 'give two persons or more');
      const p = await c.mergePersons(args);
      return o.json ? printJson(p) : void process.stdout.write(`merged into ${line(p)}\n`);
    }
    if (action === 'split') {
      need(args, 2, 'give the person and the faces to split off');
      const p = await c.splitPerson(args[0]!, args.slice(1));
      return o.json ? printJson(p) : void process.stdout.write(`split off as ${line(p)}\n`);
    }
    if (action === 'remove-face') {
      need(args, 1, 'give the face');
      const to = await c.removeFace(args[0]!);
      return o.json ? printJson({ face: args[0], person: to ?? null }) : void process.stdout.write(`${args[0]} removed; now ${to ?? 'in no person'}\n`);
    }
    if (action === 'forget') {
      need(args, 1, 'give the person');
      const r = await c.forgetPerson(args[0]!);
      return o.json ? printJson(r) : void process.stdout.write(`forgot ${r.id}: ${r.faces} face${r.faces === 1 ? '' : 's'} and their embeddings deleted\n`);
    }
    throw new VisorError('QUERY_INVALID', `unknown people action ${JSON.stringify(action)}: ${USAGE}`);
  } finally {
    await c.close();
  }
}
