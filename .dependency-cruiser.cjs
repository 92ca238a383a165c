// Architecture rules `npm run lint` enforces (docs/philosophy.md names them):
// - a server capability uses another capability's service, never its repository;
// - no import cycles anywhere;
// - the Lit packages follow Feature-Sliced Design: app → features → entities → shared, downward only;
// - production code never imports test support.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles make initialisation order fragile and hide a missing boundary.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-foreign-repository',
      severity: 'error',
      comment: "A capability uses another capability's service, never its repository (SQL stays behind its own use cases).",
      // Tests may arrange rows through any repository; production code may not.
      from: { path: '^server/src/([^/]+)/', pathNot: '(\\.test\\.ts$|test-support)' },
      to: { path: '^server/src/[^/]+/[^/]*\\.repository\\.ts$', pathNot: '^server/src/$1/' },
    },
    {
      name: 'no-test-support-in-production',
      severity: 'error',
      comment: 'Production code never imports tests, fixtures for tests or test support.',
      from: { path: '^(server|shared|widget|admin)/src/', pathNot: '(\\.test\\.ts$|test-support|/test/)' },
      to: { path: '(\\.test\\.ts$|test-support|^test/|/fixtures/.*vectors)' },
    },
    {
      name: 'fsd-layers-downward',
      severity: 'error',
      comment: 'Feature-Sliced Design: app → features → entities → shared, downward only.',
      from: { path: '^(widget|admin)/src/(shared|entities|features)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(widget|admin)/src/(app)/' },
    },
    {
      name: 'fsd-entities-below-features',
      severity: 'error',
      from: { path: '^(widget|admin)/src/(shared|entities)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(widget|admin)/src/features/' },
    },
    {
      name: 'fsd-shared-is-the-bottom',
      severity: 'error',
      from: { path: '^(widget|admin)/src/shared/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(widget|admin)/src/entities/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules|\\.tools|\\.tmp)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.lint.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['source', 'import', 'node', 'default'], extensions: ['.ts', '.js', '.mjs'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
