-- Backfill accounting that survives a killed process (kill -9, a crash, a
-- lost database connection). A run's row is flushed every second from its
-- process's memory; when the process dies, the next command marks the run
-- failed and takes its totals from what it committed: the batches it
-- completed (run_id), costed at the price it ran with.
ALTER TABLE backfill_batches ADD COLUMN run_id bigint REFERENCES backfill_runs (id) ON DELETE SET NULL;
CREATE INDEX backfill_batches_run_idx ON backfill_batches (run_id) WHERE run_id IS NOT NULL;
ALTER TABLE backfill_runs ADD COLUMN price_per_mtok double precision;
CREATE INDEX backfill_runs_running_idx ON backfill_runs (id) WHERE status = 'running';
