-- Migration 2: natural keys are unique per target connection, whichever flow wrote them
-- (`Store::holding_natural_key`), so they are looked up by key alone; the scope is in the body.
CREATE INDEX items_by_natural_key_only ON items (natural_key, state) WHERE natural_key IS NOT NULL;
