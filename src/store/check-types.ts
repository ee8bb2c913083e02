/** One line of a store check: what was checked, whether it passed, and what to fix when not. */
export interface StoreCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What the user should change, on a failed check. */
  fix?: string;
}

/** What `checkStore` found about a `--db`: usable for a collection only when `ok`. */
export interface StoreReport {
  db: string;
  kind: 'local' | 's3';
  ok: boolean;
  checks: StoreCheck[];
}

export function report(db: string, kind: StoreReport['kind'], checks: StoreCheck[]): StoreReport {
  return { db, kind, ok: checks.every((c) => c.ok), checks };
}
