-- @cursor x
-- @key a
SELECT a FROM t UNION SELECT b FROM u
