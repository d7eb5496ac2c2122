;;; empty: measures start-up time only.
