-- @cursor t.updated_at
-- @key id
SELECT id FROM t ORDER BY id LIMIT 5
