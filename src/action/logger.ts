import * as core from '@actions/core';
import type { Logger } from '../core/logger.js';

/**
 * The runner reads workflow commands from any stdout line that starts with
 * `::`. Messages carry repository text (file names, policy values), so every
 * line of a plain log message is defused; `debug`, `warning` and `error` go
 * through the toolkit, which escapes newlines in command data.
 */
export function defuse(message: string): string {
  return message
    .split(/\r\n|\r|\n/)
    .map((line) => line.replace(/^(\s*):(?=:)/, '$1:\u200b'))
    .join('\n');
}

export const actionLogger: Logger = {
  debug: (m) => core.debug(m),
  info: (m) => core.info(defuse(m)),
  warning: (m) => core.warning(m),
  error: (m) => core.error(m),
};
