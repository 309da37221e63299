/**
 * Jest runs TypeScript as native ES modules through ts-jest (transpile only; `npm run typecheck`
 * is the type gate). `npm test` starts Postgres, Kafka and serverless-offline first and passes
 * their addresses in the environment; see infra/cli/test.ts.
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^#layers/(.*)$': '<rootDir>/layers/$1.ts',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/infra/**/*.test.ts', '<rootDir>/layers/**/*.test.ts', '<rootDir>/functions/**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/.esbuild', '<rootDir>/.serverless', '<rootDir>/.cache'],
  testTimeout: 60_000,
  // One file at a time: every file shares the run's one stack (database, topics, serverless-offline),
  // and the reliability tests fingerprint whole tables; on a machine with more cores, files run in
  // parallel would see each other's writes. (On two cores Jest's default is one worker anyway.)
  maxWorkers: 1,
};
