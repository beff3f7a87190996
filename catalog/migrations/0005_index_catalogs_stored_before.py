"""Indexed the catalogs stored before the suggestion index existed. Superseded by 0007, which
indexes every stored catalog in the index's current shape (this one's builder wrote the shape of
0004)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_suggestion_index")]

    operations: list = []
