#!/usr/bin/env node
// Runs the built server CLI; `npm run build -w apps/server` first.
import '../dist/main.js';
