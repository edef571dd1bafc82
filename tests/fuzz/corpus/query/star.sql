-- @cursor none
-- @key id
SELECT * FROM t
