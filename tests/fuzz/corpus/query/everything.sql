-- A query with everything the lexer knows: modifiers, comments, quotes,
-- a subquery, a trailing ; and comment.
-- @cursor GREATEST(a.updated_at, b.updated_at)
-- @key a.id, CONCAT(b.x, ',', b.y)
-- @where a.deleted = 0
-- @where (b.x = 'it''s \' -- not a comment' OR b.y = "q\"")
SELECT /* c */ DISTINCT SQL_NO_CACHE a.id, `b`.`x y`,
  (SELECT MAX(z) FROM c WHERE c.id = a.id) AS m
FROM a # hash comment
JOIN b ON b.a_id = a.id;
-- trailing
