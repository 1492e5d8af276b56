-- The list by state holds no SENDING event. An event is SENDING only while
-- one delivery of it is under way, and events_leased already holds every
-- one of those: the list of SENDING events reads that index (a few hundred
-- entries at most, the deliveries under way). A claim then removes one
-- entry from this index instead of moving it, and the settling of the
-- attempt adds one instead of moving it. The list by state says
-- `state <> 3` to use the index.
DROP INDEX events_by_state;
CREATE INDEX events_by_state ON events (account_id, state) WHERE state <> 3;
