from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("advisor", "0002_visitor_owns_anonymous_rows"),
    ]

    operations = [
        migrations.AddField(
            model_name="loadtest",
            name="measured_on",
            field=models.JSONField(blank=True, null=True),
        ),
    ]
