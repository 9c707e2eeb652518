CREATE SCHEMA IF NOT EXISTS library;
CREATE TABLE library.tb_author (id uuid PRIMARY KEY, name text NOT NULL);
CREATE TABLE library.tb_book (id uuid PRIMARY KEY, author_id uuid NOT NULL REFERENCES library.tb_author (id), title text NOT NULL);
INSERT INTO library.tb_author VALUES ('00000000-0000-0000-0000-0000000000a1', 'Le Guin');
INSERT INTO library.tb_book VALUES ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000a1', 'The Dispossessed');
