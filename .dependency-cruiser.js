// @ts-check
// Import rules for the product (src/) and the research tree (lab/), checked by `npm run check:deps`.
//
// Layers, top to bottom; a module may import its own layer and the layers below it, never one above:
//   interfaces     src/cli/**, src/server/**
//   service        src/collection.ts, src/index.ts
//   query-time     src/search/**, src/ingest/**, src/domain/**, src/compose/**, src/localize/**, src/classify/**, src/duplicates/**, src/quality/**
//   foundations    src/store/**, src/queue/**, src/models/**, src/concepts/**, src/text/**, src/image/**, src/facts/**, src/faces/**
//   core           src/errors.ts, src/config.ts, src/core/**
// lab/ may import the product; the product never imports lab/.
// Type-only imports (`import type`) and dynamic imports (`await import(...)`) count like any other.

const INTERFACES = '^src/(cli|server)/';
const SERVICE = '^src/(collection|index)[.]ts$';
const QUERY_TIME = '^src/(search|ingest|domain|compose|localize|classify|duplicates|quality)/';
const FOUNDATIONS = '^src/(store|queue|models|concepts|text|image|facts|faces)/';
const CORE = '^src/((errors|config)[.]ts$|core/)';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make load order matter and the modules inseparable: move the shared part into a module of its own.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'product-not-to-lab',
      severity: 'error',
      comment: 'The product (src/) ships without lab/: lab code may use the product, not the other way round.',
      from: { path: '^src/' },
      to: { path: '^lab/' },
    },
    {
      name: 'interfaces-only-from-interfaces',
      severity: 'error',
      comment: 'Only the CLI, the server and the package entry (src/index.ts) import src/cli or src/server.',
      from: { path: '^src/', pathNot: `${INTERFACES}|^src/index[.]ts$` },
      to: { path: INTERFACES },
    },
    {
      name: 'server-not-to-cli',
      severity: 'error',
      comment: 'The server and the CLI are two interfaces over the library: share code through the library, not through each other.',
      from: { path: '^src/server/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'nothing-imports-the-package-entry',
      severity: 'error',
      comment: 'src/index.ts is the public entry point: inside the product, import the module that defines a thing.',
      from: { path: '^src/' },
      to: { path: '^src/index[.]ts$' },
    },
    {
      name: 'query-time-not-upward',
      severity: 'error',
      comment: 'Search, ingest, domain, compose, localize and classify sit below the Collection service and the interfaces.',
      from: { path: QUERY_TIME },
      to: { path: `${SERVICE}|${INTERFACES}` },
    },
    {
      name: 'foundations-not-upward',
      severity: 'error',
      comment: 'Store, models, concepts, text and image sit below the query-time modules, the service and the interfaces.',
      from: { path: FOUNDATIONS },
      to: { path: `${QUERY_TIME}|${SERVICE}|${INTERFACES}` },
    },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment: 'errors, config and src/core import nothing else from the product.',
      from: { path: CORE },
      to: { path: '^src/', pathNot: CORE },
    },
  ],
  options: {
    // Cruise from the repository root so that lab/ is covered as soon as it exists (`depcruise src lab` fails without it).
    includeOnly: '^(src|lab)/',
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Count `import type` too: a type-only cycle is still a cycle between the modules' meanings.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
