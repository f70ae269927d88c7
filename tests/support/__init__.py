"""What the tests share that is not a fixture: generated bad inputs and header variants, messy exports, the leak
scan, a local webhook robot, the Dagster UI driver, and the child process that is killed mid-write."""
