-- The awkward free-text values every sample table cycles through (as @t0..@t12):
-- quotes, backslashes (one at the end), tab, CR, LF, CRLF, emoji, accents, CJK,
-- '', the literal \N and padding. Loaded first (genius-sample reads the files
-- in name order); user variables last for the whole session.

SET @bs := CHAR(92 USING utf8mb4), @tab := CHAR(9 USING utf8mb4),
    @cr := CHAR(13 USING utf8mb4), @lf := CHAR(10 USING utf8mb4);

SET @t0 := '1200 Main Street',
    @t1 := 'O''Brien''s "Corner" Rd',
    @t2 := CONCAT('C:', @bs, 'Users', @bs, 'ends with a backslash', @bs),
    @t3 := CONCAT('Suite', @tab, '4', @tab),
    @t4 := CONCAT('line one', @lf, 'line two'),
    @t5 := CONCAT('carriage', @cr, 'return'),
    @t6 := CONCAT('windows', @cr, @lf, 'line end', @cr, @lf),
    @t7 := '😀 Smiley Lane 🏠',
    @t8 := 'Calle Peñalosa 5, Düsseldorf, café crème',
    @t9 := '東京都渋谷区神南1-2-3 客户备注',
    @t10 := '',
    @t11 := CONCAT(@bs, 'N'),
    @t12 := '  padded, with, commas;  ';
