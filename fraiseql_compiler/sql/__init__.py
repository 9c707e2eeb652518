"""SQL text: quoting (one place), user predicates (scan, convert, render), and the SQLSTATEs we raise."""
