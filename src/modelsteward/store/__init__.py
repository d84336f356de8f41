"""Foundation: metadata database, migrations, artifact store."""
