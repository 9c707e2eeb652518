-- Alice's unpublished draft, next to the seed's published "Hello" (Alice) and Bob's draft "Bob here"
-- (db/migrations/0001_base.sql). Loaded by the case files that name it; rolled back after each of them.
INSERT INTO public.tb_post (id, author_id, title, body, published)
VALUES ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-00000000000a', 'Alice''s draft', 'Not yet', false);
