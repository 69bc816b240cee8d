// Mocha's spec reporter plus the closing line CI reads: "N passed, N failed[, N skipped]".
'use strict';
const Spec = require('mocha/lib/reporters/spec');

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const { passes, failures, pending } = this.stats;
      process.stdout.write(`${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}\n`);
    });
  }
}

module.exports = SummaryReporter;
