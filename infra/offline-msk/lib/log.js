/**
 * Owns the plugin's output: one line per invocation and per notable event, through serverless'
 * logger when it gives us one (so lines interleave properly with serverless-offline's).
 */
'use strict';

/** @param {{ log?: { notice?: (s: string) => void } } | undefined} utils */
function createLogger(utils) {
  const sink = utils?.log?.notice ? (line) => utils.log.notice(line) : (line) => process.stderr.write(`${line}\n`);
  return (line) => sink(`offline-msk: ${line}`);
}

module.exports = { createLogger };
