// One jest run for the whole repo. Tests import workspace packages from
// their TypeScript sources; processes the tests spawn run the built dist/.
// (@kubernetes/client-node 1.x is ESM, and so are the OIDC libraries it loads.)
const esmPackages = ['eld', '@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/packages', '<rootDir>/bench', '<rootDir>/tests'],
  testMatch: ['**/test/**/*.test.ts'],
  moduleNameMapper: {
    // eld exports only an `import` entry, which jest's CommonJS resolver does not take
    '^eld/extrasmall$': '<rootDir>/packages/language/node_modules/eld/src/entries/static.extrasmall.js',
    '^@docproc/(orchestrator|cli|autoscaler|worker-[a-z]+)$': '<rootDir>/apps/$1/src/index.ts',
    '^@docproc/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
  },
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // ESM-only dependencies are compiled to CommonJS for jest (node itself requires them natively).
  transformIgnorePatterns: [`/node_modules/(?!(\\.pnpm/[^/]+/node_modules/)?(${esmPackages.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testTimeout: 60000,
  maxWorkers: 2,
};
