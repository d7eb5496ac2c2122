/* repl.h — the interactive REPL of the `sx` command (line editing with libedit, history,
 * multi-line input, Ctrl-C, meta-commands, completion). Uses only the public API in sx.h. */
#ifndef SX_REPL_H
#define SX_REPL_H

#include "../vm/sx.h"

typedef struct {
  int history; /* load and save the history file (~/.sx_history or $SX_HISTORY) */
  int quiet;   /* no banner */
} repl_options;

/* Call on the configuration before sx_open: routes the script's output through the REPL, which
 * needs to know whether the cursor is at the start of a line before it prints. */
void repl_configure(sx_config *cfg);

/* Talks to the person at the terminal until Ctrl-D, :quit or (exit); returns the exit status. */
int repl_run(sx_state *S, const repl_options *opt);

#endif
