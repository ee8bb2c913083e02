/**
 * Deletes every object under s3://bucket/prefix (a test or benchmark collection), e.g. to give a
 * RAM-backed test cluster its memory back. Usage: npx tsx lab/scripts/clear-prefix.ts s3://bucket/prefix …
 */
import { deleteCollection } from './cluster-kit.js';

for (const db of process.argv.slice(2)) console.log(`${db}: ${await deleteCollection(db)} objects deleted`);
