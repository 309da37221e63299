-- When the charge call answered its caller: at once for an instant outcome, when the call woke up
-- for a slow charge (the timeout test card, chaos). A charge voided while its call was still
-- running keeps VOIDED when the call wakes; this is how a reader (a test, an operator) knows the
-- call has finished and nothing more will change.
alter table payment.payments add column answered_at timestamptz;
