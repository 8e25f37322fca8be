# src/mail
