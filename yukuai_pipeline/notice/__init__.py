"""A county's notice and its target-table attachment, as the officer has them (.txt, .docx, .xlsx/.xls, .csv), read
into a campaign folder: `yukuai campaign import`."""
