#!/usr/bin/env node
/**
 * Writes docs/configuration.md from the configuration schema (src/config/schema.ts, through the build
 * in dist/). Run it with `npm run docs:config` after changing a variable; test/configReference.test.ts
 * fails while the file is out of date.
 */
const { writeFileSync } = require('node:fs');
const path = require('node:path');
const { configReference } = require('../dist/config/reference.js');

const file = path.join(__dirname, '..', 'docs', 'configuration.md');
writeFileSync(file, configReference());
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
