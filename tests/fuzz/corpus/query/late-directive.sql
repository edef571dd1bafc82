-- @cursor x
SELECT a FROM t
-- @key a
