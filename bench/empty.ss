;;; empty: measures start-up time only.
(import (chezscheme))
