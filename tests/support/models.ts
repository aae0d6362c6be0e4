import path from 'node:path';
import { SHIPPED_MODEL_DIR } from '../../inference/engine/model.ts';

// The random-weight model of the shipped architecture (committed): it talks until maxTokens,
// for tests that need long answers or a second model.
export const RANDOM_MODEL_DIR = path.resolve(SHIPPED_MODEL_DIR, '../test-random');
